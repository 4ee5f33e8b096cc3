"""一括登録・変更・削除: upload a CSV or Excel file, read the preview, apply it, take the generated passwords once."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from accounts import bulk_import
from accounts.queries import require_tenant_admin

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _attachment(content: bytes, content_type: str, ascii_name: str, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    response["Cache-Control"] = "no-store"
    return response


def _limits() -> dict[str, int]:
    return {"max_rows": bulk_import.MAX_DATA_ROWS, "max_password_rows": bulk_import.MAX_PASSWORD_ROWS,
            "max_megabytes": bulk_import.MAX_FILE_BYTES // (1024 * 1024), "ttl_minutes": bulk_import.TTL_SECONDS // 60}


@login_required
def import_upload(request):
    require_tenant_admin(request.user)
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise bulk_import.ImportFileError("取り込むファイル（CSVまたはExcel）を選んでください。")
            bulk_import.check_file_size(upload.size)
            parsed = bulk_import.parse_upload(upload.name, upload.read())
        except bulk_import.ImportFileError as exc:
            error = exc.messages[0]
        else:
            preview = bulk_import.validate(parsed, actor=request.user)
            token = bulk_import.save_preview(preview, actor=request.user)
            return redirect("adminpanel:user_import_preview", token=token)
    return render(request, "adminpanel/import_upload.html", {"error": error, **_limits()})


@login_required
def import_template(request):
    require_tenant_admin(request.user)
    if request.GET.get("format") == "xlsx":
        return _attachment(bulk_import.template_xlsx(), XLSX_TYPE, "user-import-template.xlsx",
                           "利用者一括登録テンプレート.xlsx")
    return _attachment(bulk_import.template_csv().encode("utf-8"), "text/csv; charset=utf-8",
                       "user-import-template.csv", "利用者一括登録テンプレート.csv")


@login_required
def import_preview(request, token: str):
    require_tenant_admin(request.user)
    stored = bulk_import.load_import(token, actor=request.user)
    if request.method == "POST":
        if stored.preview is not None:
            try:
                result = bulk_import.apply(stored.preview, actor=request.user, request=request)
            except bulk_import.ImportApplyError as exc:
                messages.error(request, exc.messages[0])
            else:
                messages.success(request, f"反映しました（追加 {result.added}名、変更 {result.changed}名、"
                                          f"削除 {result.deleted}名）。")
        return redirect("adminpanel:user_import_preview", token=token)
    if stored.result is not None:
        return render(request, "adminpanel/import_done.html", {"stored": stored, "result": stored.result,
                                                               **_limits()})
    preview = stored.preview
    only_errors = request.GET.get("show") == "errors"
    rows = [r for r in preview.rows if r.errors] if only_errors else preview.rows
    page = Paginator(rows, bulk_import.PREVIEW_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "adminpanel/import_preview.html", {
        "preview": preview, "counts": preview.counts, "page": page, "only_errors": only_errors,
        "token": token, **_limits(),
    })


@login_required
def import_passwords(request, token: str):
    require_tenant_admin(request.user)
    text = bulk_import.take_passwords(token, actor=request.user, request=request)
    if text is None:
        messages.error(request, "初期パスワードはすでにダウンロードされたか、期限が過ぎたため、もう取り出せません。"
                                "必要な場合は、利用者管理で利用者ごとにパスワードを再設定してください。")
        return redirect("adminpanel:user_import_preview", token=token)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return _attachment(text.encode("utf-8"), "text/csv; charset=utf-8", f"initial-passwords-{stamp}.csv",
                       f"初期パスワード-{stamp}.csv")
