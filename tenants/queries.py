"""Reads for the prefecture operator's console (public host)."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import connection

from tenants.crossing import in_tenant, municipalities
from tenants.models import PUBLIC_SCHEMA, Tenant
from tenants.services import domain_for


def require_operator(user) -> None:
    """Only an active user of the public schema (a prefecture operator) may use the console."""
    if not (user.is_authenticated and user.is_active and connection.schema_name == PUBLIC_SCHEMA):
        raise PermissionDenied("この画面は県の運営担当者のみ利用できます。")


@dataclass(frozen=True)
class MunicipalityRow:
    tenant: Tenant
    domain: str
    active_users: int

    @property
    def seat_percent(self) -> int | None:
        cap = self.tenant.seat_cap
        return None if not cap else min(100, round(100 * self.active_users / cap))


def municipality_rows(operator) -> list[MunicipalityRow]:
    from accounts.models import User

    require_operator(operator)
    rows = []
    for tenant in municipalities():
        with in_tenant(tenant):
            active = User.objects.filter(is_active=True).count()
        rows.append(MunicipalityRow(tenant=tenant, domain=domain_for(tenant.slug), active_users=active))
    return rows
