"""Reads about users that encode a rule."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import connection

from accounts.models import User


@dataclass(frozen=True)
class SeatUsage:
    used: int
    cap: int | None  # None: unlimited

    @property
    def unlimited(self) -> bool:
        return self.cap is None

    @property
    def remaining(self) -> int | None:
        return None if self.cap is None else max(self.cap - self.used, 0)


def seat_usage() -> SeatUsage:
    """Active users of the current municipality against its seat cap."""
    tenant = connection.tenant
    return SeatUsage(used=User.objects.filter(is_active=True).count(), cap=getattr(tenant, "seat_cap", None))


def require_tenant_admin(user) -> None:
    """Raise 403 unless ``user`` administers the current municipality."""
    if not (user.is_authenticated and getattr(user, "is_tenant_admin", False)):
        raise PermissionDenied("この画面は管理者のみ利用できます。")


def users_for_admin(admin) -> list[User]:
    require_tenant_admin(admin)
    return list(User.objects.order_by("staff_number").prefetch_related("groups"))
