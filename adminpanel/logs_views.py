"""ログ: the prompt and operation logs of the municipality, and their export as a background job.

Every view is ``admin_required`` (log-in, then ``accounts.queries.require_tenant_admin``) before anything else,
so a general user gets the audited 403 even for a method the view does not accept.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode

from adminpanel.access import admin_required
from audit import exports
from audit import queries as audit_queries
from audit.models import ExportJob
from chat.queries import tenant_models
from guard.screening import LABELS as PII_LABELS

FILTER_FIELDS = ("user", "group", "date_from", "date_to", "model", "result", "category", "text")
LOG_URLS = {ExportJob.Kind.PROMPTS: "adminpanel:prompt_logs", ExportJob.Kind.OPERATIONS: "adminpanel:operation_logs"}


def _log_page(request, kind: str, template: str):
    errors: list[str] = []
    page = rows = export_params = None
    try:
        filters = audit_queries.parse_filters(request.GET, kind=kind)
    except ValidationError as exc:
        # Show no rows rather than unfiltered ones the administrator could take for the filtered set.
        errors = exc.messages
    else:
        events = audit_queries.events_for_admin(request.user, filters).values(*audit_queries.EVENT_FIELDS)
        page = Paginator(events, audit_queries.PAGE_SIZE).get_page(request.GET.get("page"))
        rows = audit_queries.log_rows(kind, page.object_list)
        if kind == ExportJob.Kind.PROMPTS:
            rows = [(row, [PII_LABELS.get(t, t) for t in row.pii_types]) for row in rows]
        export_params = filters.to_params()
    return render(request, template, {
        "kind": kind,
        "form": {name: request.GET.get(name, "") for name in FILTER_FIELDS},
        "errors": errors,
        "page": page,
        "rows": rows,
        "export_params": export_params,
        "groups": audit_queries.group_choices(request.user),
        "results": [(key, label) for key, (_action, label) in audit_queries.RESULTS.items()],
        "categories": list(audit_queries.CATEGORY_LABELS.items()),
        "models": [m.name for m in tenant_models()] if kind == ExportJob.Kind.PROMPTS else [],
        "formats": ExportJob.Format.choices,
        "recent_jobs": audit_queries.recent_export_jobs_for_admin(request.user, kind=kind, limit=5),
    })


@admin_required
def prompt_logs(request):
    return _log_page(request, ExportJob.Kind.PROMPTS, "adminpanel/logs_prompts.html")


@admin_required
def operation_logs(request):
    return _log_page(request, ExportJob.Kind.OPERATIONS, "adminpanel/logs_operations.html")


@admin_required
def export_start(request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    kind = request.POST.get("kind", "")
    if kind not in ExportJob.Kind.values:
        messages.error(request, "エクスポートするログの種類が正しくありません。ログの画面からやり直してください。")
        return redirect("adminpanel:prompt_logs")
    try:
        filters = audit_queries.parse_filters(request.POST, kind=kind)
        job = exports.start_export(admin=request.user, filters=filters, fmt=request.POST.get("format", ""),
                                   request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        params = {name: request.POST[name] for name in FILTER_FIELDS if request.POST.get(name)}
        return redirect(reverse(LOG_URLS[kind]) + ("?" + urlencode(params) if params else ""))
    return redirect("adminpanel:export_status", job_id=job.pk)


@admin_required
def export_status(request, job_id: int):
    job = audit_queries.get_export_job_for_admin(request.user, job_id)
    context = {"job": job, "log_url": LOG_URLS[job.kind], "filters": audit_queries.describe_filters(job.filters)}
    if request.headers.get("HX-Request"):
        return render(request, "adminpanel/export_progress.html", context)
    return render(request, "adminpanel/export_status.html", context)


@admin_required
def export_download(request, job_id: int):
    job, path = audit_queries.export_file_for_admin(request.user, job_id)
    exports.mark_downloaded(admin=request.user, job=job, request=request)
    return FileResponse(open(path, "rb"), as_attachment=True, filename=exports.download_name(job),
                        content_type=exports.CONTENT_TYPES[job.format])
