"""What the rag_* commands share: finding the municipality and the user a command acts as."""

from __future__ import annotations

from django.core.management.base import CommandError


def get_tenant(slug: str):
    from tenants.models import PUBLIC_SCHEMA, Tenant

    tenant = Tenant.objects.exclude(schema_name=PUBLIC_SCHEMA).filter(slug=slug).first()
    if tenant is None:
        raise CommandError(f"利用団体「{slug}」が見つかりません。識別子（slug）を確認してください。")
    return tenant


def get_user(staff_number: str | None):
    """The active user with ``staff_number`` in the current schema, or the first active administrator."""
    from accounts.models import User, normalize_staff_number

    users = User.objects.filter(is_active=True)
    if staff_number:
        user = users.filter(staff_number=normalize_staff_number(staff_number)).first()
        if user is None:
            raise CommandError(f"職員番号「{staff_number}」の有効な利用者がいません。")
        return user
    user = users.filter(role=User.Role.ADMIN).order_by("staff_number").first()
    if user is None:
        raise CommandError("この利用団体には有効な管理者がいません。--user で職員番号を指定してください。")
    return user
