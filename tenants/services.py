"""Provisioning municipalities and changing their plan and state (the operator console's writes).

Every function here runs in the public schema, takes its actor as a keyword and writes the operator audit
event itself; the console's views, the Celery tasks and the management commands all call these.
"""

from __future__ import annotations

import logging
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils import timezone

from audit.services import record
from tenants.crossing import in_tenant
from tenants.models import (
    DEFAULT_MONTHLY_CHAR_CAP,
    PUBLIC_SCHEMA,
    Domain,
    Tenant,
    TenantJob,
    schema_name_for,
    validate_slug,
)

log = logging.getLogger(__name__)

Progress = Callable[[int, str], None]


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


# --------------------------------------------------------------------------- starter content

# Tips every new municipality starts with, so the learning area is not empty on the first day. Administrators
# edit or delete them like their own.
STARTER_TIPS: list[dict[str, str]] = [
    {
        "title": "はじめに：生成AIを安全に使うための3つの約束",
        "body": (
            "1. **個人情報や非公開の情報は入力しない** — 氏名・住所・電話番号・マイナンバーなどは、"
            "入力前に伏せ字にしてください。画面でも自動で確認されます。\n"
            "2. **回答は必ず確認する** — 生成AIはもっともらしい誤りを書くことがあります。"
            "数字・日付・法令名は原典で確かめてから使ってください。\n"
            "3. **最終的な判断と責任は職員にある** — 回答は下書きとして使い、決裁や公開の前に"
            "通常どおり確認してください。\n"
        ),
    },
    {
        "title": "うまく頼むコツ：役割・目的・条件を書く",
        "body": (
            "依頼文に次の3つを入れると、回答の質が上がります。\n\n"
            "- **役割**: 「あなたは市役所の広報担当です」\n"
            "- **目的**: 「高齢者向けに、ごみ出しルールの変更を知らせたい」\n"
            "- **条件**: 「400字以内、やさしい日本語で、箇条書きを使う」\n\n"
            "よく使う依頼は「テンプレート」に登録しておくと、次から穴埋めだけで使えます。"
        ),
    },
    {
        "title": "回答を育てる：追加の指示で直してもらう",
        "body": (
            "一度で完璧な回答を得ようとせず、続けて指示すると効率よく仕上がります。\n\n"
            "- 「もっと短く」「敬語を丁寧に」「表にまとめて」\n"
            "- 「この部分の根拠を示して」（ナレッジを選んでいる場合は出典が表示されます）\n\n"
            "話題が変わるときは「新しいチャット」を始めると、前の会話に引きずられません。"
        ),
    },
]


def seed_starter_content(tenant: Tenant) -> dict[str, int]:
    """Give a municipality the starter templates and tips when it has none yet; returns what it now has.

    The starter templates also come with the ``prompts`` data migration; running this again adds nothing.
    """
    from django.apps import apps

    from prompts.seed import seed_starter_library
    from training.models import Tip

    with in_tenant(tenant), transaction.atomic():
        seed_starter_library(apps)
        if not Tip.objects.exists():
            now = timezone.now()
            Tip.objects.bulk_create(
                Tip(title=tip["title"], body=tip["body"], author=None, published=True, published_at=now)
                for tip in STARTER_TIPS
            )
        templates = apps.get_model("prompts", "PromptTemplate").objects.count()
        tips = Tip.objects.count()
    return {"templates": templates, "tips": tips}


# --------------------------------------------------------------------------- provisioning


@dataclass
class ProvisionResult:
    tenant: Tenant
    created: bool
    admin_created: bool
    admin_password: str | None  # shown once; None when the administrator already existed
    starter: dict[str, int] | None = None


def _check_admin_identifiers(admin_email: str | None, admin_staff_number: str | None) -> None:
    if not (admin_email or admin_staff_number):
        return
    if not (admin_email and admin_staff_number):
        raise ValidationError("最初の管理者にはメールアドレスと職員番号の両方を指定してください。")
    try:
        validate_email((admin_email or "").strip())
    except ValidationError as exc:
        raise ValidationError(
            {"admin_email": ["メールアドレスの形式が正しくありません（例: taro.yamada@city.example.lg.jp）。"]}
        ) from exc
    if len(admin_staff_number.strip()) > 32:
        raise ValidationError({"admin_staff_number": ["職員番号は32文字以内で入力してください。"]})


def _discard_new_tenant(tenant: Tenant, *, actor, reason: str) -> None:
    """Remove a municipality this run created (its schema, domain and row) after a later step failed."""
    if connection.in_atomic_block and connection.needs_rollback:
        return  # the caller's transaction is being rolled back as a whole, schema included (DDL is transactional)
    connection.set_schema_to_public()
    slug = tenant.slug
    try:
        with transaction.atomic():
            Tenant.objects.get(pk=tenant.pk).delete(force_drop=True)
    except Exception:
        # The original failure is the one to report; this one goes to the log for whoever cleans up by hand.
        log.exception("could not discard the half-created municipality %s", slug)
        return
    record(action="tenant.create_failed", actor=actor, actor_label="" if actor else "system",
           target=f"tenant:{slug}", detail={"reason": reason[:500], "removed": True})


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
    allowed_models: list[str] | None = None,
    monthly_price_cap_yen: int | None = None,
    is_training: bool = False,
    starter_content: bool = False,
    progress: Progress | None = None,
    actor=None,
) -> ProvisionResult:
    """Create (or complete) a municipality: schema, domain ``slug.<base domain>`` and first administrator.

    Idempotent: running it again for an existing slug creates nothing twice, changes no password and
    finishes what an interrupted run left undone (a missing domain or administrator). When this run created the
    municipality and a later step fails, the schema, domain and row are removed again, so no half-created
    municipality is left behind.
    """
    from accounts.models import User, normalize_email, normalize_staff_number
    from accounts.services import create_user

    def step(percent: int, text: str) -> None:
        if progress is not None:
            progress(percent, text)

    step(5, "入力内容を確認しています")
    slug = (slug or "").strip().lower()
    validate_slug(slug)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["表示名を入力してください。"]})
    if seat_cap is not None and seat_cap < 1:
        raise ValidationError({"seat_cap": ["利用者数の上限は1以上にするか、無制限にしてください。"]})
    if monthly_char_cap < 0:
        raise ValidationError({"monthly_char_cap": ["月間文字数の上限は0以上で指定してください。"]})
    plan = {
        "seat_cap": seat_cap,
        "monthly_char_cap": monthly_char_cap,
        "allowed_models": list(allowed_models or []),
        "monthly_price_cap_yen": monthly_price_cap_yen,
        "is_training": bool(is_training),
    }
    errors = plan_errors(plan)
    if errors:
        raise ValidationError(errors)
    _check_admin_identifiers(admin_email, admin_staff_number)
    ensure_public_tenant()

    tenant = Tenant.objects.filter(slug=slug).first()
    created = tenant is None
    if created:
        step(10, "データベースのスキーマを作成しています（数十秒かかることがあります）")
        # Creating the schema runs every tenant migration; django-tenants does it in Tenant.save() and drops
        # the schema and row itself if a migration fails.
        tenant = Tenant(schema_name=schema_name_for(slug), slug=slug, name=name, **plan)
        tenant.save(verbosity=0)
    elif tenant.name != name:
        # The display name is the one thing a re-run may change: it is what staff see in the header.
        tenant.name = name
        tenant.save(update_fields=["name"])

    admin_created = False
    password_out: str | None = None
    starter = None
    try:
        step(60, "アドレス（ドメイン）を登録しています")
        Domain.objects.get_or_create(domain=domain_for(slug), defaults={"tenant": tenant, "is_primary": True})

        if admin_email or admin_staff_number:
            step(70, "最初の管理者を登録しています")
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
        if starter_content:
            step(85, "初期テンプレートとTIPSを用意しています")
            starter = seed_starter_content(tenant)
        if created:
            record(
                action="tenant.create",
                actor=actor,
                actor_label="" if actor else "system",
                target=f"tenant:{slug}",
                detail={"name": name, **plan, "admin_staff_number": normalize_staff_number(admin_staff_number)
                        if admin_staff_number else None},
            )
    except Exception as exc:
        if created:
            reason = "、".join(exc.messages) if isinstance(exc, ValidationError) else type(exc).__name__
            _discard_new_tenant(tenant, actor=actor, reason=reason)
        raise
    return ProvisionResult(tenant=tenant, created=created, admin_created=admin_created,
                           admin_password=password_out, starter=starter)


def send_invitation(*, tenant: Tenant, staff_number: str) -> bool:
    """E-mail the first administrator the address, the staff number and a link to set a password (never the
    password itself). The link is allauth's password-reset link on the municipality's host; it expires like one."""
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str
    from django.core.mail import send_mail
    from django.urls import reverse

    from accounts.models import User, normalize_staff_number

    with in_tenant(tenant):
        user = User.objects.filter(staff_number=normalize_staff_number(staff_number)).first()
        if user is None or not user.email:
            return False
        path = reverse("account_reset_password_from_key",
                       kwargs={"uidb36": user_pk_to_url_str(user), "key": default_token_generator.make_token(user)})
    base = site_url(tenant.slug).rstrip("/")
    body = (
        f"{user.full_name or user.email} 様\n\n"
        f"「{tenant.name}」の生成AIサービス Akagi の管理者として登録されました。\n\n"
        f"アドレス: {base}/\n職員番号: {user.staff_number}\n\n"
        f"次のリンクからパスワードを設定してください（有効期限があります）。\n{base}{path}\n\n"
        "期限が切れた場合は、ログイン画面の「パスワードをお忘れですか」から設定し直すか、県の運営担当にご連絡ください。\n"
        "このメールに心当たりがない場合は、破棄してください。\n"
    )
    try:
        send_mail(f"【Akagi】{tenant.name} の管理者として登録されました", body, None, [user.email])
    except Exception:
        log.exception("invitation e-mail to the first administrator of %s failed", tenant.slug)
        return False
    record(action="tenant.invitation", actor=None, actor_label="system", target=f"tenant:{tenant.slug}",
           detail={"staff_number": user.staff_number})
    return True


def provision_from_job(*, job_id: int) -> TenantJob:
    """The console's 利用団体の追加, run by a worker: create everything, keep the password for one showing."""
    from tenants.jobs import JobFailed, put_secret, run_job

    def work(job: TenantJob, report: Progress) -> dict[str, Any]:
        from accounts.models import User

        params = job.params
        actor = User.objects.filter(pk=params.get("actor_id"), is_active=True).first()
        slug = params.get("slug", "")
        existing = Tenant.objects.filter(slug=slug).first()
        # A redelivered task (worker restarted mid-way) finishes its own municipality; any other is a duplicate.
        ours = existing is not None and job.tenant_id == existing.pk
        if existing is not None and not ours:
            raise JobFailed(f"識別子「{slug}」の利用団体はすでに登録されています。別の識別子で追加し直してください。")
        def report_and_link(percent: int, text: str) -> None:
            report(percent, text)
            if percent >= 60 and not TenantJob.objects.filter(pk=job.pk, tenant__isnull=False).exists():
                # Linked as soon as the row exists, so that a redelivered task recognises its own municipality.
                TenantJob.objects.filter(pk=job.pk).update(tenant=Tenant.objects.filter(slug=slug).first())

        result = create_tenant(
            slug=slug,
            name=params.get("name", ""),
            admin_email=params.get("admin_email"),
            admin_staff_number=params.get("admin_staff_number"),
            admin_full_name=params.get("admin_full_name", ""),
            seat_cap=params.get("seat_cap"),
            monthly_char_cap=params.get("monthly_char_cap", DEFAULT_MONTHLY_CHAR_CAP),
            allowed_models=params.get("allowed_models") or [],
            monthly_price_cap_yen=params.get("monthly_price_cap_yen"),
            is_training=bool(params.get("is_training")),
            starter_content=True,
            progress=report_and_link,
            actor=actor,
        )
        TenantJob.objects.filter(pk=job.pk).update(tenant=result.tenant)
        report(95, "仕上げています")
        if result.admin_password:
            put_secret(job.pk, result.admin_password)
        invited = bool(result.admin_created and settings.AKAGI_SEND_INVITATIONS and send_invitation(
            tenant=result.tenant, staff_number=params.get("admin_staff_number", "")))
        return {
            "invited": invited,
            "url": site_url(result.tenant.slug),
            "slug": result.tenant.slug,
            "name": result.tenant.name,
            "admin_staff_number": params.get("admin_staff_number"),
            "templates": (result.starter or {}).get("templates", 0),
            "tips": (result.starter or {}).get("tips", 0),
        }

    return run_job(job_id, work)
