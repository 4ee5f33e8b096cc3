"""A municipality's plan (caps, models, price cap, training flag) and its state (停止 / 再開).

Every write runs in the public schema, takes its actor as a keyword and writes the operator audit event itself;
the console, ``tenant_set_plan`` and Django's admin all go through ``set_plan``. A new cap applies to the very next
prompt, because ``usage.quota`` reads the caps inside its conditional UPDATE.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.services import record
from tenants.models import Tenant

# --------------------------------------------------------------------------- plan rules

PLAN_FIELDS = ("seat_cap", "monthly_char_cap", "allowed_models", "monthly_price_cap_yen", "is_training")
MAX_SEAT_CAP = 100_000  # more staff than any municipality has; larger numbers are typing mistakes
MAX_MONTHLY_CHAR_CAP = 10_000_000_000  # far above any real plan; larger numbers are typing mistakes
MAX_MONTHLY_PRICE_CAP_YEN = 1_000_000_000


def plan_errors(changes: dict[str, Any]) -> dict[str, list[str]]:
    """Japanese messages, per plan field, for the values in ``changes`` that no plan may have."""
    from llm.catalogue import available_models

    errors: dict[str, list[str]] = {}
    seat_cap = changes.get("seat_cap")
    if seat_cap is not None and not 1 <= seat_cap <= MAX_SEAT_CAP:
        errors["seat_cap"] = [f"利用者数の上限は1〜{MAX_SEAT_CAP:,}名で指定するか、無制限にしてください。"]
    if "monthly_char_cap" in changes:
        char_cap = changes["monthly_char_cap"]
        if char_cap is None or char_cap < 0:
            errors["monthly_char_cap"] = ["月間文字数の上限は0以上で指定してください。"]
        elif char_cap > MAX_MONTHLY_CHAR_CAP:
            errors["monthly_char_cap"] = [f"月間文字数の上限は{MAX_MONTHLY_CHAR_CAP:,}文字以下で指定してください。"]
    price_cap = changes.get("monthly_price_cap_yen")
    if price_cap is not None and not (0 <= price_cap <= MAX_MONTHLY_PRICE_CAP_YEN):
        errors["monthly_price_cap_yen"] = [
            f"月間利用料金の上限は0〜{MAX_MONTHLY_PRICE_CAP_YEN:,}円で指定するか、空欄（上限なし）にしてください。"
        ]
    if changes.get("allowed_models"):
        known = {m.name for m in available_models()}
        unknown = [m for m in changes["allowed_models"] if m not in known]
        if unknown:
            errors["allowed_models"] = [
                f"カタログにないモデルです: {', '.join(unknown)}（利用可能: {', '.join(sorted(known))}）"
            ]
    return errors


def set_plan(*, tenant: Tenant, changes: dict, actor=None) -> dict:
    """Change a municipality's plan; the new caps apply to the very next prompt. Audited with before/after."""
    errors = plan_errors(changes)
    if errors:
        raise ValidationError([message for messages in errors.values() for message in messages])
    with transaction.atomic():
        locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
        diff = {}
        for field in PLAN_FIELDS:
            if field in changes and getattr(locked, field) != changes[field]:
                diff[field] = {"before": getattr(locked, field), "after": changes[field]}
                setattr(locked, field, changes[field])
        if diff:
            locked.save(update_fields=list(diff))
            record(action="tenant.plan", actor=actor, actor_label="" if actor else "system",
                   target=f"tenant:{locked.slug}", detail=diff)
    tenant.refresh_from_db()
    return diff


# --------------------------------------------------------------------------- suspend / resume


def _refuse_public(tenant: Tenant) -> None:
    if tenant.is_public:
        raise ValidationError("運営（県）の環境は停止・再開の対象ではありません。")


def suspend_tenant(*, tenant: Tenant, actor=None, request=None) -> bool:
    """Stop a municipality: its staff see the maintenance page and cannot log in. Nothing is deleted.

    Returns whether anything changed (suspending a suspended municipality is a no-op, not an error).
    """
    _refuse_public(tenant)
    with transaction.atomic():
        locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
        if not locked.is_active:
            changed = False
        else:
            locked.is_active = False
            locked.suspended_at = timezone.now()
            locked.save(update_fields=["is_active", "suspended_at"])
            record(action="tenant.suspend", actor=actor, actor_label="" if actor else "system",
                   target=f"tenant:{locked.slug}", detail={"is_active": {"before": True, "after": False}},
                   request=request)
            changed = True
    tenant.refresh_from_db()
    return changed


def resume_tenant(*, tenant: Tenant, actor=None, request=None) -> bool:
    """Let a suspended municipality's staff log in again; returns whether anything changed."""
    _refuse_public(tenant)
    with transaction.atomic():
        locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
        if locked.is_active:
            changed = False
        else:
            suspended_at = locked.suspended_at
            locked.is_active = True
            locked.suspended_at = None
            locked.save(update_fields=["is_active", "suspended_at"])
            record(action="tenant.resume", actor=actor, actor_label="" if actor else "system",
                   target=f"tenant:{locked.slug}",
                   detail={"is_active": {"before": False, "after": True},
                           "suspended_at": {"before": suspended_at.isoformat() if suspended_at else None,
                                            "after": None}},
                   request=request)
            changed = True
    tenant.refresh_from_db()
    return changed
