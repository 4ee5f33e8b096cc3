"""Reads of the operator's 利用状況ダッシュボード: one month across every municipality, or one of them.

Everything comes from public-schema rows: ``DailyUsageSummary`` (one per municipality and day, recomputed by the
beat task every 15 minutes, today's row included) and ``MonthlyUsage`` (the live monthly counter the quota moves
on every prompt, reservations included). A page view therefore runs a handful of queries whatever the number of
municipalities and never enters a municipality's schema.

Today's figures: the beat task summarizes today (and yesterday) every 15 minutes, so today's row is at most a
quarter of an hour old; the live monthly counter beside it is exact to the second. Deriving today from
``MonthlyUsage`` minus the earlier days was rejected: the counter holds open reservations and has no prompts per
status, PII types or users, so it could give only one of the figures, and that one off by what is in flight.

Every function takes the operator first and refuses anyone else (``require_operator``).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.http import Http404
from django.utils import timezone
from django.utils.html import format_html_join

from tenants.crossing import municipalities
from tenants.models import PUBLIC_SCHEMA, DailyUsageSummary, MonthlyUsage, Tenant
from tenants.queries import require_operator
from tenants.summary import UNKNOWN_CATEGORY, days_of_month

TOP_SERIES = 8  # municipalities drawn as their own colour; the rest are stacked as 「その他」
# Okabe–Ito colours (distinguishable with the common colour-vision deficiencies), darkened where needed so that
# each keeps at least 3:1 against the chart's white background; 「その他」 is grey.
PALETTE = ["#0b57a4", "#c75000", "#00805c", "#b3407f", "#8a6d00", "#2a7fb8", "#6a3d9a", "#4d4d4d"]
OTHER_COLOUR = "#9aa0a6"
CHART_WIDTH, CHART_HEIGHT = 760, 260
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 64, 8, 10, 24


@dataclass
class TenantFigures:
    tenant: Tenant
    chars: int = 0
    prompts: int = 0
    cost_yen: Decimal = Decimal(0)
    user_days: int = 0  # sum over days of that day's distinct users (延べ人数)
    month_active_users: int = 0  # distinct users this month up to the last summarized day
    peak_users: int = 0  # the busiest day's distinct users
    blocked: int = 0
    masked: int = 0
    users: int = 0  # stock figures: the month's last summarized day
    documents: int = 0
    collections: int = 0
    last_day: dt.date | None = None
    computed_at: dt.datetime | None = None
    counter_chars: int | None = None  # MonthlyUsage (live, reservations included)
    counter_cost_yen: Decimal | None = None
    by_day: dict[dt.date, int] = field(default_factory=dict)

    @property
    def cap_percent(self) -> int | None:
        cap = self.tenant.monthly_char_cap
        if self.counter_chars is None or not cap:
            return None
        return min(100, round(100 * self.counter_chars / cap))


@dataclass
class Totals:
    chars: int = 0
    prompts: int = 0
    cost_yen: Decimal = Decimal(0)
    user_days: int = 0
    month_active_users: int = 0
    peak_users: int = 0  # the busiest day across all municipalities together
    blocked: int = 0
    masked: int = 0
    users: int = 0
    documents: int = 0
    collections: int = 0


@dataclass
class CountRow:
    key: str
    label: str
    blocked: int = 0
    masked: int = 0
    count: int = 0


@dataclass
class MonthDashboard:
    month: dt.date
    days: list[dt.date]
    tenants: list[TenantFigures]
    totals: Totals
    pii: list[CountRow]
    categories: list[CountRow]
    chart: dict
    day_rows: list[dict]  # the chart as a table: per day, each series and the day's total
    tenant: Tenant | None = None  # set for the drill-down of one municipality
    oldest_computed_at: dt.datetime | None = None
    newest_computed_at: dt.datetime | None = None


def _month_range(month: dt.date) -> tuple[dt.date, dt.date]:
    first = month.replace(day=1)
    return first, (first + dt.timedelta(days=32)).replace(day=1)


def municipality_for_operator(operator, slug: str) -> Tenant:
    """The municipality of a drill-down URL; 404 for an unknown slug and for the operator's own row."""
    require_operator(operator)
    tenant = Tenant.objects.exclude(schema_name=PUBLIC_SCHEMA).filter(slug=slug).first()
    if tenant is None:
        raise Http404("その利用団体は登録されていません。")
    return tenant


def pii_label(kind: str) -> str:
    from guard.screening import LABELS

    return LABELS.get(kind, kind)


def category_label(key: str) -> str:
    from prompts.models import PromptTemplate

    if key == UNKNOWN_CATEGORY:
        return "削除されたテンプレート"
    return dict(PromptTemplate.Category.choices).get(key, key)


def summary_rows(operator, month: dt.date, *, tenant: Tenant | None = None):
    """The month's summary rows (all municipalities, or one), oldest day first, with their municipality."""
    require_operator(operator)
    first, following = _month_range(month)
    rows = DailyUsageSummary.objects.filter(day__gte=first, day__lt=following).exclude(
        tenant__schema_name=PUBLIC_SCHEMA
    )
    if tenant is not None:
        rows = rows.filter(tenant=tenant)
    return rows.select_related("tenant").order_by("day", "tenant__slug")


PII_SQL = """
SELECT kv.key, COALESCE(SUM((kv.value ->> 'blocked')::bigint), 0), COALESCE(SUM((kv.value ->> 'masked')::bigint), 0)
FROM {table} s CROSS JOIN LATERAL jsonb_each(s.pii_by_type) kv
WHERE s.day >= %s AND s.day < %s AND s.tenant_id = ANY(%s) AND jsonb_typeof(s.pii_by_type) = 'object'
GROUP BY kv.key
"""
CATEGORY_SQL = """
SELECT kv.key, SUM(kv.value::bigint)
FROM {table} s CROSS JOIN LATERAL jsonb_each_text(s.template_uses_by_category) kv
WHERE s.day >= %s AND s.day < %s AND s.tenant_id = ANY(%s) AND jsonb_typeof(s.template_uses_by_category) = 'object'
GROUP BY kv.key
"""


def _json_sums(first: dt.date, following: dt.date, tenant_ids: list[int]) -> tuple[list[CountRow], list[CountRow]]:
    """PII and template-category sums over the month, added up by PostgreSQL (no JSON decoded per row here)."""
    table = connection.ops.quote_name(DailyUsageSummary._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(PII_SQL.format(table=table), [first, following, tenant_ids])
        pii = [CountRow(key=key, label=pii_label(key), blocked=blocked, masked=masked, count=blocked + masked)
               for key, blocked, masked in cursor.fetchall()]
        cursor.execute(CATEGORY_SQL.format(table=table), [first, following, tenant_ids])
        categories = [CountRow(key=key, label=category_label(key), count=count) for key, count in cursor.fetchall()]
    pii.sort(key=lambda r: (-r.count, r.key))
    categories.sort(key=lambda r: (-r.count, r.key))
    return pii, categories[:10]


def month_dashboard(operator, month: dt.date, *, tenant: Tenant | None = None) -> MonthDashboard:
    require_operator(operator)
    first, following = _month_range(month)
    tenants = [tenant] if tenant is not None else municipalities()
    figures = {t.pk: TenantFigures(tenant=t) for t in tenants}
    tenant_ids = list(figures)
    totals = Totals()
    users_per_day: Counter[dt.date] = Counter()
    oldest = newest = None

    rows = DailyUsageSummary.objects.filter(day__gte=first, day__lt=following, tenant_id__in=tenant_ids)
    for (tenant_id, day, chars, prompts, cost, active, month_active, blocked, masked, users, documents,
         collections, computed_at) in rows.order_by("day").values_list(
        "tenant_id", "day", "chars", "prompts", "cost_yen", "active_users", "month_active_users", "blocked",
        "masked", "users", "documents", "collections", "computed_at",
    ):
        f = figures[tenant_id]
        f.chars += chars
        f.prompts += prompts
        f.cost_yen += cost
        f.user_days += active
        f.peak_users = max(f.peak_users, active)
        f.blocked += blocked
        f.masked += masked
        f.users, f.documents, f.collections, f.last_day = users, documents, collections, day
        f.month_active_users = month_active  # rows come in day order: the last one covers the whole month
        f.by_day[day] = chars
        f.computed_at = computed_at if f.computed_at is None else max(f.computed_at, computed_at)
        users_per_day[day] += active
        oldest = computed_at if oldest is None else min(oldest, computed_at)
        newest = computed_at if newest is None else max(newest, computed_at)

    counters = MonthlyUsage.objects.filter(month=first, tenant_id__in=tenant_ids).values_list(
        "tenant_id", "used_chars", "cost_yen"
    )
    for tenant_id, used, cost in counters:
        figures[tenant_id].counter_chars, figures[tenant_id].counter_cost_yen = used, cost

    for f in figures.values():
        totals.chars += f.chars
        totals.prompts += f.prompts
        totals.cost_yen += f.cost_yen
        totals.user_days += f.user_days
        totals.month_active_users += f.month_active_users
        totals.blocked += f.blocked
        totals.masked += f.masked
        totals.users += f.users
        totals.documents += f.documents
        totals.collections += f.collections
    totals.peak_users = max(users_per_day.values(), default=0)

    pii, categories = _json_sums(first, following, tenant_ids)
    days = days_of_month(first)
    ordered = sorted(figures.values(), key=lambda f: (-f.chars, f.tenant.slug))
    chart, day_rows = stacked_chart(days, ordered)
    return MonthDashboard(
        month=first, days=days, tenants=sorted(figures.values(), key=lambda f: f.tenant.slug), totals=totals,
        pii=pii, categories=categories, chart=chart, day_rows=day_rows, tenant=tenant,
        oldest_computed_at=oldest, newest_computed_at=newest,
    )


def _series(ordered: list[TenantFigures]) -> list[dict]:
    """The top municipalities by characters, each its own colour, and the rest together as 「その他」."""
    shown = [f for f in ordered if f.chars > 0][:TOP_SERIES] if len(ordered) > 1 else ordered
    shown_ids = {id(f) for f in shown}
    rest = [f for f in ordered if id(f) not in shown_ids and f.chars > 0]
    series = [{"label": f.tenant.name, "slug": f.tenant.slug, "colour": PALETTE[i % len(PALETTE)],
               "by_day": f.by_day, "chars": f.chars} for i, f in enumerate(shown)]
    if rest:
        merged: dict[dt.date, int] = defaultdict(int)
        for f in rest:
            for day, chars in f.by_day.items():
                merged[day] += chars
        series.append({"label": f"その他（{len(rest)}団体）", "slug": "", "colour": OTHER_COLOUR,
                       "by_day": merged, "chars": sum(f.chars for f in rest)})
    return series


def _nice_ceiling(value: int) -> int:
    """The axis maximum: 1, 2, 2.5 or 5 times a power of ten, at least ``value``."""
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(value)) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return int(step * magnitude)
    return 10 * magnitude


def stacked_chart(days: list[dt.date], ordered: list[TenantFigures]) -> tuple[dict, list[dict]]:
    """Stacked bars per day for an inline SVG (no chart library to vendor, drawn without JavaScript)."""
    series = _series(ordered)
    day_totals = [sum(s["by_day"].get(day, 0) for s in series) for day in days]
    peak = max(day_totals, default=0)
    # At least 100 characters on the axis, so an empty or nearly empty month still gets distinct round ticks.
    axis_max = _nice_ceiling(max(peak, 100))
    plot_width = CHART_WIDTH - PLOT_LEFT - PLOT_RIGHT
    plot_height = CHART_HEIGHT - PLOT_TOP - PLOT_BOTTOM
    slot = plot_width / max(len(days), 1)
    bars = []
    for index, day in enumerate(days):
        x = round(PLOT_LEFT + index * slot + 1.5, 1)
        bottom = float(CHART_HEIGHT - PLOT_BOTTOM)
        for s in series:
            chars = s["by_day"].get(day, 0)
            if not chars:
                continue
            height = chars / axis_max * plot_height
            bottom -= height
            bars.append((x, round(bottom, 1), round(slot - 3, 1), round(height, 1), s["colour"],
                         f"{day.month}/{day.day} {s['label']}：{chars:,} 文字"))
    ticks = []
    for fraction in (0, 0.25, 0.5, 0.75, 1):
        y = round(CHART_HEIGHT - PLOT_BOTTOM - fraction * plot_height, 1)
        ticks.append({"y": y, "label_y": y + 4, "value": int(axis_max * fraction)})
    labels = [{"x": round(PLOT_LEFT + index * slot + slot / 2, 1), "day": day}
              for index, day in enumerate(days) if day.day == 1 or day.day % 5 == 0]
    busiest = days[day_totals.index(peak)] if peak else None
    chart = {
        "width": CHART_WIDTH, "height": CHART_HEIGHT, "bar_count": len(bars),
        # Up to 31 × 9 rectangles: built here (escaped by format_html) rather than by the template's loop, which
        # would spend most of the page's time on per-bar variable lookups and filters.
        "bars": format_html_join(
            "", '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>', bars
        ), "series": series, "ticks": ticks,
        "labels": labels, "peak": peak, "busiest": busiest, "total": sum(day_totals),
        "plot_left": PLOT_LEFT, "plot_right": CHART_WIDTH - PLOT_RIGHT, "axis_y": CHART_HEIGHT - PLOT_BOTTOM,
        "label_y": CHART_HEIGHT - 6,
    }
    day_rows = [{"day": day, "values": [s["by_day"].get(day, 0) for s in series], "total": total}
                for day, total in zip(days, day_totals, strict=True)]
    return chart, day_rows


def export_table(operator, month: dt.date, *, tenant: Tenant | None = None) -> tuple[list[str], list[list]]:
    """The month's per-municipality, per-day rows for CSV / Excel, with one column per PII type and category
    that occurs in the month (so the file stays as narrow as the data)."""
    rows = list(summary_rows(operator, month, tenant=tenant))
    pii_kinds = sorted({kind for row in rows for kind in (row.pii_by_type or {})})
    category_keys = sorted({key for row in rows for key in (row.template_uses_by_category or {})})
    header = [
        "日付", "識別子", "利用団体", "文字数", "プロンプト数", "費用（円）", "利用した人数", "ブロック",
        "マスクして送信", "有効な利用者数", "文書数", "ナレッジ数",
        *[f"個人情報ブロック:{pii_label(k)}" for k in pii_kinds],
        *[f"個人情報マスク:{pii_label(k)}" for k in pii_kinds],
        *[f"テンプレート:{category_label(k)}" for k in category_keys],
        "集計日時",
    ]
    table = []
    for row in rows:
        pii = row.pii_by_type or {}
        uses = row.template_uses_by_category or {}
        table.append([
            row.day.isoformat(), row.tenant.slug, row.tenant.name, row.chars, row.prompts, float(row.cost_yen),
            row.active_users, row.blocked, row.masked, row.users, row.documents, row.collections,
            *[int(pii.get(k, {}).get("blocked", 0)) for k in pii_kinds],
            *[int(pii.get(k, {}).get("masked", 0)) for k in pii_kinds],
            *[int(uses.get(k, 0)) for k in category_keys],
            timezone.localtime(row.computed_at).strftime("%Y-%m-%d %H:%M"),
        ])
    return header, table
