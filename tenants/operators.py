"""運営者アカウント: the prefecture operators, i.e. the users of the public schema.

A user of the public schema is an operator (``tenants.queries.require_operator``), so these functions refuse to
run anywhere else: called in a municipality's schema they would quietly create or change that municipality's
staff instead. The writes reuse ``accounts.services`` (password rules, duplicate checks, the audit event, which
in the public schema lands in ``OperatorAuditEvent``); what is added here is what only operators need: never
losing the last way into the console. One-time passwords are returned to the caller and never stored or logged.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import QuerySet
from django.http import Http404

from accounts import services as accounts
from accounts.models import User
from tenants.models import PUBLIC_SCHEMA, OperatorAuditEvent
from tenants.queries import require_operator
from tenants.services import generate_password

PUBLIC_ONLY = "運営者アカウントは県（運営）の環境でのみ作成・変更できます。"


def _require_public(actor: User | None) -> None:
    if connection.schema_name != PUBLIC_SCHEMA:
        raise PermissionDenied(PUBLIC_ONLY)
    if actor is not None:
        require_operator(actor)


# --------------------------------------------------------------------------- reads


def operator_list(viewer: User) -> QuerySet[User]:
    """Every operator account (active or not) with its last log-in, by staff number."""
    require_operator(viewer)
    return User.objects.order_by("-is_active", "staff_number").only(
        "pk", "staff_number", "email", "full_name", "is_active", "last_login", "must_change_password",
        "date_joined",
    )


def get_operator_for_operator(viewer: User, operator_id: int) -> User:
    require_operator(viewer)
    try:
        return User.objects.get(pk=operator_id)
    except User.DoesNotExist as exc:
        raise Http404("運営者アカウントが見つかりません。") from exc


def operator_events(viewer: User, operator: User, *, limit: int = 20) -> list[OperatorAuditEvent]:
    """The latest entries of the operator trail about one account (created, disabled, log-ins…), newest first."""
    require_operator(viewer)
    return list(OperatorAuditEvent.objects.filter(target=f"user:{operator.staff_number}").order_by("-id")[:limit])


def active_operator_count() -> int:
    return User.objects.filter(is_active=True).count()


# --------------------------------------------------------------------------- writes


def create_operator(
    *,
    staff_number: str,
    email: str,
    full_name: str,
    password: str | None = None,
    actor: User | None,
    request=None,
) -> tuple[User, str | None]:
    """Add an operator who must choose their own password at the first log-in.

    Returns the new user and the generated one-time password (``None`` when the caller gave one); the caller
    shows it once. Duplicates, a malformed address and a password the validators refuse raise ``ValidationError``
    with Japanese messages per field.
    """
    _require_public(actor)
    if not full_name.strip():
        raise ValidationError({"full_name": ["氏名を入力してください。"]})
    generated = generate_password() if password is None else None
    user = accounts.create_user(
        staff_number=staff_number, email=email, full_name=full_name,
        password=password if password is not None else generated,
        # The role is not what makes an operator (the schema is); ADMIN matches the seeded operator.
        role=User.Role.ADMIN, must_change_password=True, actor=actor, request=request,
    )
    return user, generated


def set_operator_active(*, user: User, active: bool, actor: User | None, request=None) -> User:
    """Disable or re-enable an operator. Nobody disables themselves, and the last active operator stays.

    All active operators are locked first, so two operators disabling each other at the same moment cannot
    leave the console without anyone who can log in.
    """
    _require_public(actor)
    if not active and actor is not None and user.pk == actor.pk:
        raise ValidationError(
            "自分自身のアカウントは無効にできません。必要な場合は、ほかの運営担当者に依頼してください。"
        )
    with transaction.atomic():
        locked = list(User.objects.select_for_update().filter(is_active=True).values_list("pk", flat=True))
        if not active and locked == [user.pk]:
            raise ValidationError(
                "有効な運営者がこのアカウントだけのため、無効にできません。"
                "先に別の運営者アカウントを追加してから無効にしてください。"
            )
        return accounts.set_active(user=user, active=active, actor=actor, request=request)


def reset_operator_password(*, user: User, actor: User | None, request=None) -> str:
    """Give an operator a new one-time password (returned once) that must be changed at the next log-in.

    The stored hash changes, so any session the operator still has ends at its next request.
    """
    _require_public(actor)
    if actor is not None and user.pk == actor.pk:
        raise ValidationError("自分のパスワードは、画面右上の「パスワード変更」から変更してください。")
    return accounts.reset_password(user=user, actor=actor, request=request)
