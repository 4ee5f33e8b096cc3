"""Every write to users: creation, activation, roles, passwords. Each writes its audit event."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models.functions import Lower

from accounts.models import User, normalize_email, normalize_staff_number
from audit.services import record


class SeatCapExceeded(ValidationError):
    pass


def _lock_seat_cap() -> int | None:
    """Lock this municipality's plan row for the transaction and return its seat cap.

    Two administrators adding the last free seat at once must not both succeed, so the check and the insert
    happen while the tenant row (public schema) is locked.
    """
    from tenants.models import Tenant

    tenant = connection.tenant
    if getattr(tenant, "pk", None) is None or tenant.schema_name == "public":
        return None
    return Tenant.objects.select_for_update().values_list("seat_cap", flat=True).get(pk=tenant.pk)


def _check_seat_available(extra_seats: int = 1) -> None:
    cap = _lock_seat_cap()
    if cap is None:
        return
    used = User.objects.filter(is_active=True).count()
    if used + extra_seats > cap:
        raise SeatCapExceeded(
            f"利用者数の上限（{cap}名）に達しているため、有効な利用者を追加できません。"
            f"現在 {used} 名が有効です。不要な利用者を無効にするか、県の運営担当に上限の引き上げを依頼してください。",
            code="seat_cap",
        )


def _validate_identity(*, staff_number: str, email: str, exclude_pk: int | None = None) -> None:
    errors: dict[str, list[str]] = {}
    if not staff_number:
        errors.setdefault("staff_number", []).append("職員番号を入力してください。")
    elif len(staff_number) > 32:
        errors.setdefault("staff_number", []).append("職員番号は32文字以内で入力してください。")
    try:
        validate_email(email)
    except ValidationError:
        errors.setdefault("email", []).append(
            "メールアドレスの形式が正しくありません（例: taro.yamada@city.example.lg.jp）。"
        )
    others = User.objects.exclude(pk=exclude_pk) if exclude_pk else User.objects.all()
    if staff_number and others.filter(staff_number=staff_number).exists():
        errors.setdefault("staff_number", []).append(f"職員番号「{staff_number}」はすでに登録されています。")
    if email and others.annotate(e=Lower("email")).filter(e=email).exists():
        errors.setdefault("email", []).append(f"メールアドレス「{email}」はすでに登録されています。")
    if errors:
        raise ValidationError(errors)


def create_user(
    *,
    staff_number: str,
    email: str,
    password: str,
    full_name: str = "",
    department: str = "",
    role: str = User.Role.GENERAL,
    groups: Iterable[str] = (),
    is_active: bool = True,
    must_change_password: bool = False,
    actor: User | None = None,
    request=None,
) -> User:
    """Create a user in the current schema, refusing duplicates, weak passwords and seats over the cap."""
    staff_number = normalize_staff_number(staff_number)
    email = normalize_email(email)
    if role not in User.Role.values:
        raise ValidationError({"role": ["権限は「管理者」または「一般利用者」を指定してください。"]})
    with transaction.atomic():
        if is_active:
            _check_seat_available()
        _validate_identity(staff_number=staff_number, email=email)
        user = User(
            staff_number=staff_number,
            email=email,
            full_name=full_name.strip(),
            department=department.strip(),
            role=role,
            is_active=is_active,
            must_change_password=must_change_password,
        )
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from exc
        user.set_password(password)
        user.save()
        group_names = [name.strip() for name in groups if name.strip()]
        if group_names:
            user.groups.set([Group.objects.get_or_create(name=name)[0] for name in group_names])
        record(
            action="user.create",
            actor=actor,
            actor_label="" if actor else "system",
            target=f"user:{user.staff_number}",
            detail={"role": role, "groups": group_names, "is_active": is_active},
            request=request,
        )
    return user


def set_active(*, user: User, active: bool, actor: User | None = None, request=None) -> User:
    """Disable or re-enable a user; re-enabling takes a seat and is refused when none is free."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.is_active == active:
            return user
        if active:
            _check_seat_available()
        user.is_active = active
        user.save(update_fields=["is_active"])
        record(
            action="user.enable" if active else "user.disable",
            actor=actor,
            target=f"user:{user.staff_number}",
            request=request,
        )
    return user


def set_role(*, user: User, role: str, actor: User | None = None, request=None) -> User:
    if role not in User.Role.values:
        raise ValidationError({"role": ["権限は「管理者」または「一般利用者」を指定してください。"]})
    with transaction.atomic():
        before = user.role
        user.role = role
        user.save(update_fields=["role"])
        record(
            action="user.role",
            actor=actor,
            target=f"user:{user.staff_number}",
            detail={"before": before, "after": role},
            request=request,
        )
    return user


def clear_expired_sessions() -> None:
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    Session.objects.filter(expire_date__lt=timezone.now()).delete()


def update_user(
    *,
    user: User,
    email: str,
    full_name: str,
    department: str,
    role: str,
    groups: Iterable[Group],
    actor: User,
    request=None,
) -> User:
    """Edit a user's profile, role and groups in one transaction, audited with what changed."""
    email = normalize_email(email)
    if role not in User.Role.values:
        raise ValidationError({"role": ["権限は「管理者」または「一般利用者」を指定してください。"]})
    if user.pk == actor.pk and role != User.Role.ADMIN:
        raise ValidationError({"role": ["自分自身の管理者権限は外せません。他の管理者に依頼してください。"]})
    with transaction.atomic():
        _validate_identity(staff_number=user.staff_number, email=email, exclude_pk=user.pk)
        before = {"email": user.email, "full_name": user.full_name, "department": user.department,
                  "role": user.role, "groups": sorted(user.groups.values_list("name", flat=True))}
        user.email, user.full_name, user.department, user.role = email, full_name.strip(), department.strip(), role
        user.save(update_fields=["email", "full_name", "department", "role"])
        user.groups.set(list(groups))
        after = {"email": user.email, "full_name": user.full_name, "department": user.department,
                 "role": user.role, "groups": sorted(user.groups.values_list("name", flat=True))}
        changed = {k: {"before": before[k], "after": after[k]} for k in after if before[k] != after[k]}
        if changed:
            record(action="user.update", actor=actor, target=f"user:{user.staff_number}", detail=changed,
                   request=request)
    return user


def reset_password(*, user: User, actor: User, request=None) -> str:
    """Give the user a new random password that must be changed at the next log-in; return it once."""
    from tenants.services import generate_password

    password = generate_password()
    with transaction.atomic():
        user.set_password(password)
        user.must_change_password = True
        user.save(update_fields=["password", "must_change_password"])
        record(action="user.password_reset", actor=actor, target=f"user:{user.staff_number}", request=request)
    return password


def delete_user(*, user: User, actor: User, request=None) -> None:
    """Delete a user. Their audit events and usage records stay, under the name they had."""
    if user.pk == actor.pk:
        raise ValidationError("自分自身は削除できません。")
    with transaction.atomic():
        record(action="user.delete", actor=actor, target=f"user:{user.staff_number}",
               detail={"full_name": user.full_name, "email": user.email}, request=request)
        user.delete()


def password_changed(*, user: User, request=None) -> None:
    """The user chose a new password: the forced change (after a reset or import) is done."""
    if user.must_change_password:
        User.objects.filter(pk=user.pk).update(must_change_password=False)
        user.must_change_password = False
    record(action="user.password_change", actor=user, target=f"user:{user.staff_number}", request=request)
