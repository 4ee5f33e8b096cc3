"""The one way code crosses from the public schema into a municipality's schema.

Apps never call ``connection.set_schema`` themselves: they go through ``in_tenant``, which names the tenant it
enters, so every cross-schema read is easy to find and review.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django_tenants.utils import tenant_context

from tenants.models import PUBLIC_SCHEMA, Tenant


@contextmanager
def in_tenant(tenant: Tenant) -> Iterator[Tenant]:
    with tenant_context(tenant):
        yield tenant


def municipalities() -> list[Tenant]:
    return list(Tenant.objects.exclude(schema_name=PUBLIC_SCHEMA).order_by("slug"))
