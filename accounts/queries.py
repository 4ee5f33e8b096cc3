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


def get_user_for_admin(admin, user_id: int) -> User:
    from django.http import Http404

    require_tenant_admin(admin)
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise Http404("利用者が見つかりません。")
    return user


def search_users_for_admin(admin, *, text: str = "", group_id: str = "", role: str = "", active: str = ""):
    from django.db.models import Q

    require_tenant_admin(admin)
    qs = User.objects.all().prefetch_related("groups").order_by("staff_number")
    text = text.strip()
    if text:
        qs = qs.filter(Q(staff_number__icontains=text) | Q(full_name__icontains=text) | Q(email__icontains=text)
                       | Q(department__icontains=text))
    if group_id.isdigit():
        qs = qs.filter(groups__id=int(group_id))
    if role in User.Role.values:
        qs = qs.filter(role=role)
    if active in {"1", "0"}:
        qs = qs.filter(is_active=active == "1")
    return qs


def groups_for_admin(admin):
    from django.contrib.auth.models import Group
    from django.db.models import Count

    require_tenant_admin(admin)
    return Group.objects.annotate(members=Count("user")).select_related("policy").order_by("name")


def get_group_for_admin(admin, group_id: int):
    from django.contrib.auth.models import Group
    from django.http import Http404

    require_tenant_admin(admin)
    group = Group.objects.filter(pk=group_id).first()
    if group is None:
        raise Http404("グループが見つかりません。")
    return group


def allowed_model_names(user) -> set[str] | None:
    """The models this user's groups allow; None when no group restricts them."""
    from accounts.models import GroupPolicy

    lists = list(GroupPolicy.objects.filter(group__user=user).values_list("allowed_models", flat=True))
    if not lists or any(not names for names in lists):
        return None
    return {name for names in lists for name in names}
