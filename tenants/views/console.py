"""利用団体一覧 and the municipality pages of the operator console (public host only).

Views are thin: every read goes through ``tenants.queries`` (which checks the operator) and every write through
``tenants.services`` (which audits it). Console URLs exist only in the public URL conf, so a municipality's host
answers them with 404.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import urlencode

from audit.services import record
from audit.spreadsheet import spreadsheet_response
from tenants import queries
from tenants.access import operator_required
from tenants.forms import PlanForm, TenantCreateForm
from tenants.jobs import start_job
from tenants.models import TenantJob
from tenants.plans import resume_tenant, set_plan, suspend_tenant
from tenants.services import domain_for
from tenants.tasks.provision import provision_tenant

AUDIT_PAGE_SIZE = 50

ACTION_LABELS = {
    "tenant.create": "利用団体の追加",
    "tenant.create_failed": "利用団体の追加に失敗（取り消し済み）",
    "tenant.plan": "プランの変更",
    "tenant.suspend": "停止",
    "tenant.resume": "再開",
    "export.tenants": "利用団体一覧の書き出し",
    "login": "ログイン",
    "login.failed": "ログイン失敗",
    "login.locked": "ログインのロック",
    "logout": "ログアウト",
    "access.denied": "権限のない画面へのアクセス（拒否）",
    "export.dashboard": "利用状況の書き出し",
    "usage.summarize": "日次集計の手動更新",
    "tenant.invitation": "最初の管理者への招待メール",
    "announcement.create": "お知らせの作成",
    "announcement.update": "お知らせの変更",
    "announcement.delete": "お知らせの削除",
    "tenant.export": "環境の書き出し",
    "tenant.import": "環境の取り込み",
    "tenant.import_failed": "環境の取り込みに失敗（取り消し済み）",
    "tenant.archive_download": "書き出したファイルのダウンロード",
    "tenant.archive_delete": "書き出したファイルの削除",
    "tenant.training_reset": "研修環境の初期化",
    "user.create": "運営者アカウントの追加",
    "user.disable": "運営者アカウントの無効化",
    "user.enable": "運営者アカウントの有効化",
    "user.password_reset": "運営者のパスワード再設定",
    "user.password_change": "パスワードの変更",
}

FIELD_LABELS = {
    "seat_cap": "利用者数の上限",
    "role": "権限",
    "groups": "グループ",
    "monthly_char_cap": "月間文字数の上限",
    "allowed_models": "利用を認めるモデル",
    "monthly_price_cap_yen": "月間利用料金の上限（円）",
    "is_training": "研修環境",
    "is_active": "稼働",
    "suspended_at": "停止日時",
    "name": "表示名",
    "admin_staff_number": "最初の管理者の職員番号",
    "reason": "理由",
    "removed": "作成途中のデータを削除",
    "format": "形式",
    "rows": "件数",
    "filters": "条件",
}

UNLIMITED_WORDS = {"seat_cap": "無制限", "monthly_price_cap_yen": "上限なし", "allowed_models": "すべて"}


def _value_text(field: str, value) -> str:
    if value is None or value == []:
        return UNLIMITED_WORDS.get(field, "なし")
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)


def detail_lines(detail: dict) -> list[str]:
    """An audit event's detail as Japanese lines: "項目: 前 → 後" for changes, "項目: 値" otherwise."""
    lines = []
    for field, value in (detail or {}).items():
        label = FIELD_LABELS.get(field, field)
        if isinstance(value, dict) and set(value) == {"before", "after"}:
            lines.append(f"{label}: {_value_text(field, value['before'])} → {_value_text(field, value['after'])}")
        else:
            lines.append(f"{label}: {_value_text(field, value)}")
    return lines


def _events(events) -> list[dict]:
    return [{"event": e, "label": ACTION_LABELS.get(e.action, e.action), "lines": detail_lines(e.detail)}
            for e in events]


def _tenant_url(request, slug: str) -> str:
    """The municipality's address as seen from the operator's browser (same scheme and port as the console)."""
    port = request.get_port()
    default = "443" if request.is_secure() else "80"
    suffix = f":{port}" if port and port != default else ""
    return f"{request.scheme}://{domain_for(slug)}{suffix}/"


# --------------------------------------------------------------------------- 利用団体一覧


def _list_filters(request) -> dict[str, str]:
    state = request.GET.get("state", "")
    return {
        "state": state if state in queries.STATE_FILTERS else "",
        "q": request.GET.get("q", "").strip()[:100],
        "sort": request.GET.get("sort", ""),
    }


def _list_rows(request, filters):
    return queries.municipality_rows(request.user, state=filters["state"], text=filters["q"], sort=filters["sort"])


@operator_required
def console_home(request):
    filters = _list_filters(request)
    rows = _list_rows(request, filters)
    key, descending = queries.parse_sort(filters["sort"])
    base = {k: v for k, v in filters.items() if v and k != "sort"}
    columns = []
    for name, (label, _key) in queries.SORTS.items():
        # A column already sorted ascending flips to descending on the next click.
        next_sort = f"-{name}" if name == key and not descending else name
        columns.append({
            "name": name, "label": label, "url": "?" + urlencode({**base, "sort": next_sort}),
            "aria_sort": ("descending" if descending else "ascending") if name == key else None,
        })
    export_query = urlencode({**base, **({"sort": filters["sort"]} if filters["sort"] else {})})
    return render(request, "tenants/console_home.html", {
        "rows": [(row, _tenant_url(request, row.tenant.slug)) for row in rows],
        "filters": filters,
        "states": [(value, label) for value, (label, _q) in queries.STATE_FILTERS.items()],
        "columns": {c["name"]: c for c in columns},
        "export_query": export_query,
        "filtered": bool(base),
    })


EXPORT_HEADER = [
    "表示名", "識別子", "状態", "研修環境", "有効な利用者数", "利用者数の上限", "今月の文字数", "月間文字数の上限",
    "文字数の使用率（%）", "今月の費用（円）", "月間利用料金の上限（円）", "今月のプロンプト数", "今月の利用者数",
    "最終利用日時", "アドレス",
]


def _export_row(request, row) -> list:
    tenant = row.tenant
    last = timezone.localtime(row.last_activity).strftime("%Y-%m-%d %H:%M") if row.last_activity else ""
    return [
        tenant.name, tenant.slug, row.state_label, "はい" if tenant.is_training else "いいえ", row.seats_used,
        tenant.seat_cap if tenant.seat_cap is not None else "無制限", row.used_chars, tenant.monthly_char_cap,
        row.char_percent, float(row.cost_yen.quantize(Decimal("0.01"))),
        tenant.monthly_price_cap_yen if tenant.monthly_price_cap_yen is not None else "上限なし", row.prompts,
        row.active_users, last, _tenant_url(request, tenant.slug),
    ]


@operator_required
def console_export(request):
    filters = _list_filters(request)
    rows = _list_rows(request, filters)
    fmt = "xlsx" if request.GET.get("format") == "xlsx" else "csv"
    name = f"municipalities-{timezone.localtime():%Y%m%d-%H%M}"
    data = [_export_row(request, row) for row in rows]
    record(action="export.tenants", actor=request.user, target="tenants", request=request,
           detail={"format": fmt, "rows": len(data), "filters": {k: v for k, v in filters.items() if v}})
    return spreadsheet_response(fmt, EXPORT_HEADER, data, name=name, title="利用団体一覧")


# --------------------------------------------------------------------------- 利用団体の追加 / 詳細 / プラン


@operator_required
def tenant_create(request):
    form = TenantCreateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        job = start_job(kind=TenantJob.Kind.PROVISION, actor=request.user, task=provision_tenant,
                        tenant_slug=form.cleaned_data["slug"], params=form.job_params(actor=request.user))
        return redirect("jobs:status", job.pk)
    return render(request, "tenants/console_tenant_form.html", {"form": form})


@operator_required
def tenant_detail(request, slug: str):
    tenant = queries.get_municipality_for_operator(request.user, slug)
    row = queries.municipality_row(request.user, tenant)
    return render(request, "tenants/console_tenant_detail.html", {
        "tenant": tenant,
        "row": row,
        "url": _tenant_url(request, tenant.slug),
        "events": _events(queries.tenant_events(request.user, tenant)),
        "jobs": queries.tenant_jobs(request.user, tenant),
    })


def _cap_warnings(row) -> list[str]:
    """Caps set below what is already used this month are allowed, but the operator should know the effect."""
    tenant = row.tenant
    warnings = []
    if row.chars_over:
        warnings.append(
            f"月間文字数の上限（{tenant.monthly_char_cap:,}文字）が今月の使用量（{row.used_chars:,}文字）以下です。"
            "この利用団体では、上限を引き上げるか来月になるまで新しいプロンプトを受け付けません。"
        )
    if row.cost_over:
        warnings.append(
            f"月間利用料金の上限（{tenant.monthly_price_cap_yen:,}円）が今月の費用（{row.cost_yen:,.0f}円）以下です。"
            "この利用団体では、上限を引き上げるか来月になるまで新しいプロンプトを受け付けません。"
        )
    if row.seats_over:
        warnings.append(
            f"利用者数の上限（{tenant.seat_cap:,}名）が有効な利用者数（{row.seats_used:,}名）を下回っています。"
            "既存の利用者はそのまま使えますが、上限を下回るまで利用者の追加や有効化はできません。"
        )
    return warnings


@operator_required
def tenant_plan(request, slug: str):
    tenant = queries.get_municipality_for_operator(request.user, slug)
    form = PlanForm(request.POST if request.method == "POST" else None, tenant=tenant)
    if request.method == "POST" and form.is_valid():
        try:
            diff = set_plan(tenant=tenant, changes=form.plan(), actor=request.user)
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            if diff:
                changed = "、".join(FIELD_LABELS.get(field, field) for field in diff)
                messages.success(request,
                                 f"{tenant.name}のプランを変更しました（{changed}）。次のプロンプトから反映されます。")
            else:
                messages.info(request, "変更はありませんでした。")
            for warning in _cap_warnings(queries.municipality_row(request.user, tenant)):
                messages.warning(request, warning)
            return redirect("console:tenant", tenant.slug)
    return render(request, "tenants/console_plan.html", {
        "tenant": tenant, "form": form, "row": queries.municipality_row(request.user, tenant),
    })


# --------------------------------------------------------------------------- 停止 / 再開


def _state_change(request, slug: str, *, suspend: bool):
    tenant = queries.get_municipality_for_operator(request.user, slug)
    if request.method == "POST":
        service = suspend_tenant if suspend else resume_tenant
        changed = service(tenant=tenant, actor=request.user, request=request)
        if not changed:
            messages.info(request, f"{tenant.name}はすでに{'停止' if suspend else '稼働'}しています。")
        elif suspend:
            messages.success(request, f"{tenant.name}を停止しました。職員はログインできず、保守中の画面が表示されます。"
                                      "データは削除されていません。")
        else:
            messages.success(request, f"{tenant.name}を再開しました。職員は再びログインできます。")
        return redirect("console:tenant", tenant.slug)
    return render(request, "tenants/console_confirm.html", {
        "tenant": tenant, "suspend": suspend, "row": queries.municipality_row(request.user, tenant),
    })


@operator_required
def tenant_suspend(request, slug: str):
    return _state_change(request, slug, suspend=True)


@operator_required
def tenant_resume(request, slug: str):
    return _state_change(request, slug, suspend=False)


# --------------------------------------------------------------------------- 運営者の監査ログ


@operator_required
def operator_audit(request):
    filters = {
        "action": request.GET.get("action", "").strip()[:100],
        "target": request.GET.get("target", "").strip()[:100],
        "actor": request.GET.get("actor", "").strip()[:100],
    }
    events = queries.operator_events(request.user, **filters)
    page = Paginator(events, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    actions = queries.operator_actions(request.user)
    return render(request, "tenants/console_audit.html", {
        "page": page,
        "events": _events(page.object_list),
        "filters": filters,
        "actions": [(a, ACTION_LABELS.get(a, a)) for a in actions],
        "querystring": urlencode({k: v for k, v in filters.items() if v}),
        "filtered": any(filters.values()),
    })


@operator_required
def operator_manual(request):
    from training.manuals import load_manual, search_sections

    doc = load_manual("operator")
    query = request.GET.get("q", "").strip()
    results = search_sections(doc, query) if query else []
    return render(request, "tenants/console_manual.html", {"manual": doc, "query": query, "results": results})


@operator_required
def operator_manual_pdf(request):

    from training.pdf import manual_pdf  # reportlab is loaded only by the processes that build a PDF

    response = HttpResponse(manual_pdf("operator"), content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="akagi-operator-manual.pdf"'
    return response
