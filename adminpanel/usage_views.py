"""利用状況: this month against the cap (live), the per-day trend, and per-user and per-group tables."""

from __future__ import annotations

from django.shortcuts import render
from django.utils import timezone

from accounts.queries import require_tenant_admin
from adminpanel.access import admin_required
from audit.services import record
from audit.spreadsheet import spreadsheet_response
from usage import stats
from usage.queries import counters_for
from usage.quota import current_month

CHART_WIDTH, CHART_HEIGHT = 720, 200


def _chart(points: list[stats.DayPoint]) -> dict:
    """Bars for an inline SVG: no chart library to vendor, readable without JavaScript."""
    peak = max((p.chars for p in points), default=0) or 1
    slot = CHART_WIDTH / max(len(points), 1)
    bars = []
    for index, point in enumerate(points):
        height = round(point.chars / peak * (CHART_HEIGHT - 20))
        bars.append({"x": round(index * slot + 2, 1), "y": CHART_HEIGHT - height, "width": round(slot - 4, 1),
                     "height": height, "point": point})
    return {"bars": bars, "peak": peak, "width": CHART_WIDTH, "height": CHART_HEIGHT}


@admin_required
def usage_overview(request):
    require_tenant_admin(request.user)
    this_month = current_month()
    month = stats.parse_month(request.GET.get("month"), this_month)
    points = stats.per_day(month)
    return render(request, "adminpanel/usage.html", {
        "month": month, "months": stats.month_choices(this_month), "is_current": month == this_month,
        "counters": counters_for(request.tenant, request.user), "chart": _chart(points), "points": points,
        "users": stats.per_user(month), "groups": stats.per_group(month),
    })


@admin_required
def usage_live(request):
    require_tenant_admin(request.user)
    return render(request, "adminpanel/_usage_live.html",
                  {"counters": counters_for(request.tenant, request.user), "now": timezone.now()})


@admin_required
def usage_export(request):
    require_tenant_admin(request.user)
    month = stats.parse_month(request.GET.get("month"), current_month())
    kind = "groups" if request.GET.get("kind") == "groups" else "users"
    if kind == "users":
        header = ["職員番号", "氏名", "グループ", "文字数", "プロンプト数", "ブロック数", "会話数", "最終利用"]
        rows = [[r["staff_number"], r["name"], r["groups"], r["chars"], r["prompts"], r["blocked"],
                 r["conversations"], _when(r["last_use"])] for r in stats.per_user(month)]
    else:
        header = ["グループ", "人数", "文字数", "プロンプト数", "会話数", "最終利用"]
        rows = [[r["name"], r["members"], r["chars"], r["prompts"], r["conversations"], _when(r["last_use"])]
                for r in stats.per_group(month)]
    name = f"usage-{kind}-{month:%Y-%m}"
    record(action="export.usage", actor=request.user, target=name, detail={"format": request.GET.get("format")},
           request=request)
    return spreadsheet_response(request.GET.get("format", "csv"), header, rows, name=name, title=name)


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""
