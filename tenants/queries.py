"""Reads for the prefecture operator's console (public host).

Every read that shows municipalities or the operator trail starts with ``require_operator``; figures that live
in a municipality's own schema are read through ``tenants.crossing.in_tenant`` with one query per municipality.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Max, Q, QuerySet
from django.http import Http404

from tenants.crossing import in_tenant
from tenants.models import PUBLIC_SCHEMA, MonthlyUsage, OperatorAuditEvent, Tenant, TenantJob
from tenants.services import domain_for


def require_operator(user) -> None:
    """Only an active user of the public schema (a prefecture operator) may use the console."""
    if not (user.is_authenticated and user.is_active and connection.schema_name == PUBLIC_SCHEMA):
        raise PermissionDenied("この画面は県の運営担当者のみ利用できます。")


def _percent(used: int | Decimal, cap: int | None) -> int | None:
    if cap is None:
        return None
    if cap <= 0:
        return 100 if used > 0 else 0
    return min(100, round(100 * used / cap))


@dataclass(frozen=True)
class MunicipalityRow:
    """One line of 利用団体一覧: the plan from public, this month's figures from public and the tenant."""

    tenant: Tenant
    domain: str
    seats_used: int  # active user accounts (what the seat cap counts)
    active_users: int  # users with at least one usage record this month
    used_chars: int
    cost_yen: Decimal
    prompts: int
    last_activity: dt.datetime | None

    @property
    def state(self) -> str:
        return "suspended" if not self.tenant.is_active else "active"

    @property
    def state_label(self) -> str:
        return "停止中" if not self.tenant.is_active else "稼働中"

    @property
    def seat_percent(self) -> int | None:
        return _percent(self.seats_used, self.tenant.seat_cap)

    @property
    def char_percent(self) -> int:
        return _percent(self.used_chars, self.tenant.monthly_char_cap) or 0

    @property
    def cost_percent(self) -> int | None:
        return _percent(self.cost_yen, self.tenant.monthly_price_cap_yen)

    @property
    def seats_over(self) -> bool:
        return self.tenant.seat_cap is not None and self.seats_used > self.tenant.seat_cap

    @property
    def chars_over(self) -> bool:
        return self.used_chars >= self.tenant.monthly_char_cap

    @property
    def cost_over(self) -> bool:
        cap = self.tenant.monthly_price_cap_yen
        return cap is not None and self.cost_yen >= cap


STATE_FILTERS = {
    "active": ("稼働中", Q(is_active=True)),
    "suspended": ("停止中", Q(is_active=False)),
    "training": ("研修環境", Q(is_training=True)),
}

# Whitelisted sort keys (the ``sort`` query parameter; a leading "-" reverses): label and row key.
SORTS = {
    "name": ("表示名", lambda r: r.tenant.name),
    "slug": ("識別子", lambda r: r.tenant.slug),
    "state": ("状態", lambda r: (r.tenant.is_active, r.tenant.is_training)),
    "seats": ("利用者数", lambda r: r.seats_used),
    "chars": ("今月の文字数", lambda r: r.used_chars),
    "usage": ("文字数の使用率", lambda r: r.char_percent),
    "cost": ("今月の費用", lambda r: r.cost_yen),
    "active": ("今月の利用者", lambda r: r.active_users),
    "last": ("最終利用", lambda r: r.last_activity or dt.datetime.min.replace(tzinfo=dt.UTC)),
}
DEFAULT_SORT = "slug"


def parse_sort(value: str | None) -> tuple[str, bool]:
    """(key, descending) from the query parameter; anything outside the whitelist means the default."""
    value = (value or "").strip()
    descending = value.startswith("-")
    key = value.lstrip("-")
    if key not in SORTS:
        return DEFAULT_SORT, False
    return key, descending


def _current_month() -> dt.date:
    from usage.quota import current_month

    return current_month()


def _tenant_figures(tenant: Tenant, month: dt.date) -> tuple[int, int, dt.datetime | None]:
    """(active accounts, users who prompted this month, latest usage record) in one query in the tenant."""
    from accounts.models import User
    from usage.models import UsageRecord

    users = connection.ops.quote_name(User._meta.db_table)
    records = connection.ops.quote_name(UsageRecord._meta.db_table)
    with in_tenant(tenant), connection.cursor() as cursor:
        # Unqualified names resolve to the tenant's schema (first on the search path) that in_tenant set.
        cursor.execute(
            f"SELECT (SELECT count(*) FROM {users} WHERE is_active),"  # noqa: S608 - table names from models
            f" (SELECT count(DISTINCT user_id) FROM {records} WHERE month = %s),"
            f" (SELECT max(created_at) FROM {records})",
            [month],
        )
        seats, active, last = cursor.fetchone()
    return seats, active, last


def _rows_for(tenants: list[Tenant]) -> list[MunicipalityRow]:
    month = _current_month()
    ids = [t.pk for t in tenants]
    this_month = {
        u.tenant_id: u for u in MonthlyUsage.objects.filter(tenant_id__in=ids, month=month)
    }
    last_counter = dict(
        MonthlyUsage.objects.filter(tenant_id__in=ids).values("tenant_id").annotate(last=Max("updated_at"))
        .values_list("tenant_id", "last")
    )
    rows = []
    for tenant in tenants:
        seats, active, last_record = _tenant_figures(tenant, month)
        usage = this_month.get(tenant.pk)
        # A counter is touched by every reservation; a usage record by every prompt that ended. Either is activity.
        candidates = [d for d in (last_record, last_counter.get(tenant.pk)) if d is not None]
        rows.append(MunicipalityRow(
            tenant=tenant,
            domain=domain_for(tenant.slug),
            seats_used=seats,
            active_users=active,
            used_chars=usage.used_chars if usage else 0,
            cost_yen=usage.cost_yen if usage else Decimal(0),
            prompts=usage.prompts if usage else 0,
            last_activity=max(candidates) if candidates else None,
        ))
    return rows


def municipality_rows(operator, *, state: str = "", text: str = "", sort: str = "") -> list[MunicipalityRow]:
    """利用団体一覧: every municipality (filtered by state and by text in its name or slug), sorted."""
    require_operator(operator)
    queryset = Tenant.objects.exclude(schema_name=PUBLIC_SCHEMA)
    if state in STATE_FILTERS:
        queryset = queryset.filter(STATE_FILTERS[state][1])
    text = (text or "").strip()
    if text:
        queryset = queryset.filter(Q(name__icontains=text) | Q(slug__icontains=text.lower()))
    rows = _rows_for(list(queryset.order_by("slug")))
    key, descending = parse_sort(sort)
    rows.sort(key=SORTS[key][1], reverse=descending)
    return rows


def get_municipality_for_operator(operator, slug: str) -> Tenant:
    """The municipality called ``slug``; 404 for an unknown slug and for the operator's own public row."""
    require_operator(operator)
    tenant = Tenant.objects.exclude(schema_name=PUBLIC_SCHEMA).filter(slug=slug).first()
    if tenant is None:
        raise Http404("利用団体が見つかりません。")
    return tenant


def municipality_row(operator, tenant: Tenant) -> MunicipalityRow:
    require_operator(operator)
    return _rows_for([tenant])[0]


def tenant_events(operator, tenant: Tenant, *, limit: int = 50) -> list[OperatorAuditEvent]:
    """The operator trail about one municipality, newest first."""
    require_operator(operator)
    return list(OperatorAuditEvent.objects.filter(target=f"tenant:{tenant.slug}").order_by("-id")[:limit])


def tenant_jobs(operator, tenant: Tenant, *, limit: int = 5) -> list[TenantJob]:
    """The latest operator jobs about one municipality (provisioning, export, reset), newest first."""
    require_operator(operator)
    return list(TenantJob.objects.filter(tenant=tenant).order_by("-id")[:limit])


def operator_events(operator, *, action: str = "", target: str = "", actor: str = "") -> QuerySet:
    """運営者の監査ログ, newest first, filtered by exact action and by text in the target or the actor."""
    require_operator(operator)
    queryset = OperatorAuditEvent.objects.order_by("-id")
    if action:
        queryset = queryset.filter(action=action)
    if target.strip():
        queryset = queryset.filter(target__icontains=target.strip())
    if actor.strip():
        queryset = queryset.filter(actor_label__icontains=actor.strip())
    return queryset


def operator_actions(operator) -> list[str]:
    """The actions present in the trail, for the filter's choices."""
    require_operator(operator)
    return list(OperatorAuditEvent.objects.order_by("action").values_list("action", flat=True).distinct())
