"""Provisioning municipalities: the public tenant, new tenants with their domain and first administrator."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from audit.services import record
from tenants.crossing import in_tenant
from tenants.models import (
    DEFAULT_MONTHLY_CHAR_CAP,
    PUBLIC_SCHEMA,
    Domain,
    Tenant,
    schema_name_for,
    validate_slug,
)


def domain_for(slug: str) -> str:
    return f"{slug}.{settings.BASE_DOMAIN}"


def site_url(slug: str) -> str:
    return settings.AKAGI_SITE_URL.format(host=domain_for(slug))


def generate_password(length: int = 16) -> str:
    """A random password that passes the validators: letters, digits and a symbol, no look-alikes."""
    alphabet = "".join(c for c in string.ascii_letters + string.digits if c not in "0O1lI")
    while True:
        body = "".join(secrets.choice(alphabet) for _ in range(length - 1))
        candidate = body + secrets.choice("-_#%+")
        if any(c.isdigit() for c in candidate) and any(c.isupper() for c in candidate) and any(
            c.islower() for c in candidate
        ):
            return candidate


def ensure_public_tenant() -> Tenant:
    """The public schema's row and the operator host (the base domain), kept in step with settings."""
    tenant, _ = Tenant.objects.get_or_create(
        schema_name=PUBLIC_SCHEMA, defaults={"name": "運営（県）", "slug": "public"}
    )
    Domain.objects.update_or_create(
        domain=settings.BASE_DOMAIN, defaults={"tenant": tenant, "is_primary": True}
    )
    return tenant


@dataclass
class ProvisionResult:
    tenant: Tenant
    created: bool
    admin_created: bool
    admin_password: str | None  # shown once; None when the administrator already existed


def create_tenant(
    *,
    slug: str,
    name: str,
    admin_email: str | None = None,
    admin_staff_number: str | None = None,
    admin_password: str | None = None,
    admin_full_name: str = "",
    seat_cap: int | None = None,
    monthly_char_cap: int = DEFAULT_MONTHLY_CHAR_CAP,
    actor=None,
) -> ProvisionResult:
    """Create (or complete) a municipality: schema, domain ``slug.<base domain>`` and first administrator.

    Idempotent: running it again for an existing slug creates nothing twice, changes no password and
    finishes what an interrupted run left undone (a missing domain or administrator).
    """
    from accounts.models import User, normalize_email, normalize_staff_number
    from accounts.services import create_user

    slug = (slug or "").strip().lower()
    validate_slug(slug)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["表示名を入力してください。"]})
    if seat_cap is not None and seat_cap < 1:
        raise ValidationError({"seat_cap": ["利用者数の上限は1以上にするか、無制限にしてください。"]})
    if monthly_char_cap < 0:
        raise ValidationError({"monthly_char_cap": ["月間文字数の上限は0以上で指定してください。"]})
    ensure_public_tenant()

    tenant = Tenant.objects.filter(slug=slug).first()
    created = tenant is None
    if created:
        # Creating the schema runs every tenant migration; django-tenants does it in Tenant.save().
        tenant = Tenant(
            schema_name=schema_name_for(slug),
            slug=slug,
            name=name,
            seat_cap=seat_cap,
            monthly_char_cap=monthly_char_cap,
        )
        tenant.save(verbosity=0)
    elif tenant.name != name:
        # The display name is the one thing a re-run may change: it is what staff see in the header.
        tenant.name = name
        tenant.save(update_fields=["name"])
    Domain.objects.get_or_create(domain=domain_for(slug), defaults={"tenant": tenant, "is_primary": True})

    admin_created = False
    password_out: str | None = None
    if admin_email or admin_staff_number:
        if not (admin_email and admin_staff_number):
            raise ValidationError("最初の管理者にはメールアドレスと職員番号の両方を指定してください。")
        with in_tenant(tenant), transaction.atomic():
            existing = User.objects.filter(staff_number=normalize_staff_number(admin_staff_number)).first() or (
                User.objects.filter(email__iexact=normalize_email(admin_email)).first()
            )
            if existing is None:
                password_out = admin_password or generate_password()
                create_user(
                    staff_number=admin_staff_number,
                    email=admin_email,
                    password=password_out,
                    full_name=admin_full_name,
                    role=User.Role.ADMIN,
                    must_change_password=admin_password is None,
                    actor=None,
                )
                admin_created = True
    if created:
        record(
            action="tenant.create",
            actor=actor,
            actor_label="" if actor else "system",
            target=f"tenant:{slug}",
            detail={"name": name, "seat_cap": seat_cap, "monthly_char_cap": monthly_char_cap},
        )
    return ProvisionResult(tenant=tenant, created=created, admin_created=admin_created,
                           admin_password=password_out)


PLAN_FIELDS = ("seat_cap", "monthly_char_cap", "allowed_models", "monthly_price_cap_yen", "is_training")
MAX_MONTHLY_CHAR_CAP = 10_000_000_000  # far above any real plan; larger numbers are typing mistakes
MAX_MONTHLY_PRICE_CAP_YEN = 1_000_000_000


def set_plan(*, tenant: Tenant, changes: dict, actor=None) -> dict:
    """Change a municipality's plan; the new caps apply to the very next prompt. Audited with before/after."""
    from llm.catalogue import available_models

    errors = []
    if "seat_cap" in changes and changes["seat_cap"] is not None and changes["seat_cap"] < 1:
        errors.append("利用者数の上限は1以上にするか、無制限にしてください。")
    if "monthly_char_cap" in changes and changes["monthly_char_cap"] < 0:
        errors.append("月間文字数の上限は0以上で指定してください。")
    if "monthly_char_cap" in changes and changes["monthly_char_cap"] > MAX_MONTHLY_CHAR_CAP:
        errors.append(f"月間文字数の上限は{MAX_MONTHLY_CHAR_CAP:,}文字以下で指定してください。")
    price_cap = changes.get("monthly_price_cap_yen")
    if price_cap is not None and not (0 <= price_cap <= MAX_MONTHLY_PRICE_CAP_YEN):
        errors.append(f"月間利用料金の上限は0〜{MAX_MONTHLY_PRICE_CAP_YEN:,}円で指定するか、空欄（上限なし）にしてください。")
    if "allowed_models" in changes:
        known = {m.name for m in available_models()}
        unknown = [m for m in changes["allowed_models"] if m not in known]
        if unknown:
            errors.append(f"カタログにないモデルです: {', '.join(unknown)}（利用可能: {', '.join(sorted(known))}）")
    if errors:
        raise ValidationError(errors)
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
