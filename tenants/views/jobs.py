"""The progress page of an operator job; the progress part refreshes itself with htmx until the job ends."""

from django.shortcuts import get_object_or_404, render

from tenants.access import operator_required
from tenants.jobs import pop_secret
from tenants.models import TenantJob


@operator_required
def job_status(request, job_id: int):
    job = get_object_or_404(TenantJob, pk=job_id)
    context = {"job": job}
    if request.headers.get("HX-Request"):
        if job.is_finished:
            context["secret"] = pop_secret(job.pk) if job.state == TenantJob.State.DONE else None
        return render(request, "tenants/_job_progress.html", context)
    if job.is_finished and job.state == TenantJob.State.DONE:
        context["secret"] = pop_secret(job.pk)
    return render(request, "tenants/job_status.html", context)
