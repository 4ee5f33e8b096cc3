"""Municipalities (利用団体), their host names and plans. Lives in the public schema."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django_tenants.models import DomainMixin, TenantMixin

from audit.models import AuditRecordBase

PUBLIC_SCHEMA = "public"
DEFAULT_MONTHLY_CHAR_CAP = 1_000_000

# Host labels: lowercase letters, digits and hyphens, starting with a letter (RFC 1123, kept short).
SLUG_RE = re.compile(r"^[a-z][a-z0-9-]{1,29}[a-z0-9]$")
RESERVED_SLUGS = frozenset({"public", "www", "admin", "api", "static", "media", "localhost", "healthz"})

slug_validator = RegexValidator(
    SLUG_RE,
    "識別子は英小文字で始め、英小文字・数字・ハイフンで3〜31文字にしてください（例: demo-a）。",
)


def validate_slug(value: str) -> None:
    slug_validator(value)
    if value in RESERVED_SLUGS or "--" in value:
        raise ValidationError(f"「{value}」は予約された識別子のため使えません。別の識別子を指定してください。")


def schema_name_for(slug: str) -> str:
    # Slugs never contain underscores, so this mapping is one-to-one.
    return "t_" + slug.replace("-", "_")


class Tenant(TenantMixin):
    """A municipality. The row with schema ``public`` stands for the prefecture operator itself."""

    name = models.CharField("表示名", max_length=100)
    slug = models.CharField("識別子", max_length=31, unique=True)
    seat_cap = models.PositiveIntegerField(
        "利用者数の上限", null=True, blank=True, help_text="空欄は無制限です。"
    )
    monthly_char_cap = models.PositiveBigIntegerField("月間文字数の上限", default=DEFAULT_MONTHLY_CHAR_CAP)
    allowed_models = models.JSONField(
        "利用を認めるモデル", default=list, blank=True, help_text="空の場合はカタログのすべてのモデルを認めます。"
    )
    is_active = models.BooleanField("有効", default=True)
    created_at = models.DateTimeField("作成日時", auto_now_add=True)

    auto_create_schema = True

    class Meta:
        verbose_name = "利用団体"
        verbose_name_plural = "利用団体"
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_public(self) -> bool:
        return self.schema_name == PUBLIC_SCHEMA

    @property
    def seats_unlimited(self) -> bool:
        return self.seat_cap is None


class MonthlyUsage(models.Model):
    """The municipality's character counter for one month (Asia/Tokyo), kept in public.

    It lives in the public schema so that the operator sees every municipality at once and a raised cap applies
    to the very next prompt. ``used_chars`` includes open reservations; ``usage.quota`` moves it only with
    conditional UPDATEs, so concurrent prompts can never push it past the cap.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="monthly_usage")
    month = models.DateField("月")  # the first day of the month
    used_chars = models.BigIntegerField("使用文字数（予約を含む）", default=0)
    prompts = models.PositiveIntegerField("プロンプト数", default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "月間使用量"
        verbose_name_plural = "月間使用量"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "month"], name="tenants_monthly_usage_unique"),
            models.CheckConstraint(condition=models.Q(used_chars__gte=0), name="tenants_monthly_usage_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.month:%Y-%m}: {self.used_chars}"


class Domain(DomainMixin):
    class Meta:
        verbose_name = "ドメイン"
        verbose_name_plural = "ドメイン"


class OperatorAuditEvent(AuditRecordBase):
    """The prefecture operator's trail: log-ins on the public host, provisioning, plan changes."""

    class Meta(AuditRecordBase.Meta):
        verbose_name = "運営者監査ログ"
        verbose_name_plural = "運営者監査ログ"

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.action} {self.target}"
