"""利用状況ダッシュボード of the operator console: every municipality for a month, one municipality, exports."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from audit.services import record
from audit.spreadsheet import spreadsheet_response
from tenants import dashboard, summary
from tenants.access import operator_required
from usage.quota import current_month
from usage.stats import month_choices, parse_month


def _page(request, tenant=None):
    this_month = current_month()
    month = parse_month(request.GET.get("month"), this_month)
    board = dashboard.month_dashboard(request.user, month, tenant=tenant)
    return render(request, "tenants/dashboard.html", {
        "board": board, "month": month, "months": month_choices(this_month), "is_current": month == this_month,
        "tenant": tenant,
    })


@operator_required
def dashboard_home(request):
    return _page(request)


@operator_required
def dashboard_tenant(request, slug: str):
    return _page(request, dashboard.municipality_for_operator(request.user, slug))


@operator_required
def dashboard_export(request, fmt: str, slug: str | None = None):
    tenant = dashboard.municipality_for_operator(request.user, slug) if slug else None
    month = parse_month(request.GET.get("month"), current_month())
    header, rows = dashboard.export_table(request.user, month, tenant=tenant)
    name = f"usage-daily-{tenant.slug if tenant else 'all'}-{month:%Y-%m}"
    # The request runs in the public schema, so this lands in the operator's own trail.
    record(action="export.dashboard", actor=request.user, target=name,
           detail={"format": fmt, "month": f"{month:%Y-%m}", "tenant": tenant.slug if tenant else None,
                   "rows": len(rows)},
           request=request)
    return spreadsheet_response(fmt, header, rows, name=name, title=f"{month:%Y-%m}")


@require_POST
@operator_required
def dashboard_refresh(request):
    """Recompute today and yesterday now instead of waiting for the beat (a new deployment, or right after a 研修会)."""
    done = summary.summarize_recent()
    record(action="usage.summarize", actor=request.user, target="dashboard", detail={"days": done}, request=request)
    messages.success(request, "今日と昨日の日次集計を更新しました。")
    return redirect("dashboard:home")
