"""Provisioning municipalities: schema, domain, first administrator, starter content (plans live in tenants.plans).

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
from tenants.plans import plan_errors

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
