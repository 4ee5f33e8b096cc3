"""環境の引き継ぎ in the operator console: export a municipality, import an archive, download an export.

Exports and imports run as operator jobs (progress on the job page). Downloads and deletions of archive files
are audited: an archive holds every password hash and prompt of a municipality.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from audit.services import record
from tenants.access import operator_required
from tenants.archive import storage
from tenants.archive.forms import ExportForm, ImportForm
from tenants.jobs import start_job
from tenants.models import TenantJob
from tenants.tasks import archive as tasks

JOB_KINDS = (TenantJob.Kind.EXPORT, TenantJob.Kind.IMPORT)
# Room for the form fields and multipart headers around the archive itself.
MULTIPART_OVERHEAD = 64 * 1024


def _page(request, *, export_form=None, import_form=None, upload_error: str = "", status: int = 200):
    jobs = TenantJob.objects.filter(kind__in=JOB_KINDS).order_by("-id")[:50]
    return render(request, "tenants/environments.html", {
        "jobs": jobs,
        "export_form": export_form or ExportForm(),
        "import_form": import_form or ImportForm(),
        "upload_error": upload_error,
        "max_upload_bytes": storage.max_upload_bytes(),
        "retention_days": storage.retention_days(),
    }, status=status)


@operator_required
def index(request):
    return _page(request)


@require_POST
@operator_required
def start_export(request):
    form = ExportForm(request.POST)
    if not form.is_valid():
        return _page(request, export_form=form, status=400)
    tenant = form.cleaned_data["tenant"]
    job = start_job(kind=TenantJob.Kind.EXPORT, actor=request.user, task=tasks.export_tenant, tenant=tenant,
                    params={"actor_id": request.user.pk})
    return redirect("jobs:status", job.pk)


@csrf_exempt  # the upload handler must be in place before CSRF reads the body; _receive_import checks the token
@require_POST
@operator_required
def start_import(request):
    limit = storage.max_upload_bytes()
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit + MULTIPART_OVERHEAD:
        return _page(request, upload_error=_too_large(limit), status=413)
    handler = storage.ArchiveUploadHandler(request, limit=limit)
    request.upload_handlers = [handler]
    return _receive_import(request, handler)


@csrf_protect
def _receive_import(request, handler: storage.ArchiveUploadHandler):
    form = ImportForm(request.POST)
    upload = request.FILES.get(storage.UPLOAD_FIELD)
    if handler.too_large:
        return _page(request, import_form=form, upload_error=_too_large(handler.limit), status=413)
    if upload is None or not upload.size:
        if upload is not None:
            upload.discard()
        form.is_valid()
        return _page(request, import_form=form, status=400,
                     upload_error="取り込むアーカイブ（tenant_export または運営コンソールで書き出した .tar.gz）を"
                                  "選んでください。")
    if not form.is_valid():
        upload.discard()
        return _page(request, import_form=form, status=400)
    job = start_job(
        kind=TenantJob.Kind.IMPORT, actor=request.user, task=tasks.import_tenant,
        tenant_slug=form.cleaned_data["slug"],
        params={"upload": storage.relative(upload.path), "file_name": (upload.name or "")[:200],
                "size": upload.size, "name": form.cleaned_data["name"], "actor_id": request.user.pk},
    )
    return redirect("jobs:status", job.pk)


def _too_large(limit: int) -> str:
    return (f"アーカイブが大きすぎます（上限 {limit / 2**30:.1f} GB）。サーバーで manage.py tenant_import を使うか、"
            "運営の設定 AKAGI_ARCHIVE_MAX_UPLOAD_BYTES で上限を引き上げてください。")


def _finished_export(job_id: int) -> tuple[TenantJob, object]:
    job = get_object_or_404(TenantJob, pk=job_id, kind=TenantJob.Kind.EXPORT, state=TenantJob.State.DONE)
    path = storage.resolve_in(storage.archive_dir(), job.file_path)
    if path is None:
        raise Http404("アーカイブのファイルがありません（保存期間を過ぎて削除されたか、削除されました）。"
                      "もう一度書き出してください。")
    return job, path


@operator_required
def download(request, job_id: int):
    job, path = _finished_export(job_id)
    record(action="tenant.archive_download", actor=request.user, target=f"tenant:{job.tenant_slug}",
           detail={"job": job.pk, "file": path.name, "size": job.file_size,
                   "sha256": (job.result or {}).get("sha256", "")}, request=request)
    return FileResponse(path.open("rb"), as_attachment=True, filename=path.name, content_type="application/gzip")


@require_POST
@operator_required
def delete_archive(request, job_id: int):
    job, path = _finished_export(job_id)
    path.unlink(missing_ok=True)
    TenantJob.objects.filter(pk=job.pk).update(file_path="", file_size=None)
    record(action="tenant.archive_delete", actor=request.user, target=f"tenant:{job.tenant_slug}",
           detail={"job": job.pk, "file": path.name}, request=request)
    messages.success(request, f"アーカイブ {path.name} を削除しました。")
    return redirect("environments:index")
