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
# "new" and "console" would collide with the operator console's own paths (/console/tenants/new/).
RESERVED_SLUGS = frozenset({
    "public", "www", "admin", "api", "static", "media", "localhost", "healthz", "new", "console",
})

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
    monthly_price_cap_yen = models.PositiveBigIntegerField(
        "月間利用料金の上限（円）", null=True, blank=True,
        help_text="空欄は料金の上限なし（文字数の上限のみ）。カタログの単価で1回ごとの費用を計算します。",
    )
    is_active = models.BooleanField("有効", default=True)
    is_training = models.BooleanField(
        "研修環境", default=False, help_text="研修会の前に運営コンソールから初期状態に戻せる利用団体です。"
    )
    suspended_at = models.DateTimeField("停止日時", null=True, blank=True)
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
    # Like used_chars, includes open reservations, so the price cap is enforced by the same conditional UPDATE.
    cost_yen = models.DecimalField("費用（円、予約を含む）", max_digits=16, decimal_places=4, default=0)
    prompts = models.PositiveIntegerField("プロンプト数", default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "月間使用量"
        verbose_name_plural = "月間使用量"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "month"], name="tenants_monthly_usage_unique"),
            models.CheckConstraint(condition=models.Q(used_chars__gte=0), name="tenants_monthly_usage_nonnegative"),
            models.CheckConstraint(condition=models.Q(cost_yen__gte=0), name="tenants_monthly_usage_cost_nonnegative"),
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


class DailyUsageSummary(models.Model):
    """One municipality's figures for one day (Asia/Tokyo), kept in public by a beat task.

    The operator's dashboard reads these rows (plus today's live counters) so that a page view never has to
    visit every municipality's schema. Rows are recomputed from the tenant's own records, so re-running the task
    for a day replaces its figures instead of adding to them.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="daily_summaries")
    day = models.DateField("日")
    chars = models.BigIntegerField("文字数", default=0)
    prompts = models.PositiveIntegerField("プロンプト数", default=0)
    cost_yen = models.DecimalField("費用（円）", max_digits=16, decimal_places=4, default=0)
    active_users = models.PositiveIntegerField("利用した人数", default=0)
    # Distinct users from the first of the month to this day: a month's active users are not a sum of days.
    month_active_users = models.PositiveIntegerField("月初からこの日までに利用した人数", default=0)
    blocked = models.PositiveIntegerField("ブロックされたプロンプト", default=0)
    masked = models.PositiveIntegerField("マスクして送信したプロンプト", default=0)
    pii_by_type = models.JSONField("個人情報の種類別件数", default=dict, blank=True)
    template_uses_by_category = models.JSONField("テンプレートのカテゴリ別利用数", default=dict, blank=True)
    # Stock figures at the end of the day (not sums over days).
    users = models.PositiveIntegerField("有効な利用者数", default=0)
    documents = models.PositiveIntegerField("文書数", default=0)
    collections = models.PositiveIntegerField("ナレッジ数", default=0)
    computed_at = models.DateTimeField("集計日時", auto_now=True)

    class Meta:
        verbose_name = "日次利用集計"
        verbose_name_plural = "日次利用集計"
        ordering = ["day", "tenant_id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "day"], name="tenants_daily_summary_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.day}: {self.chars}"


class Announcement(models.Model):
    """お知らせ from the prefecture to every (or chosen) municipality, shown in their header and learning area."""

    title = models.CharField("件名", max_length=120)
    body = models.TextField("本文（Markdown）", max_length=20_000, blank=True)
    starts_at = models.DateTimeField("掲載開始")
    ends_at = models.DateTimeField("掲載終了", null=True, blank=True, help_text="空欄は終了日なし。")
    for_all = models.BooleanField("すべての利用団体", default=True)
    tenants = models.ManyToManyField(Tenant, blank=True, related_name="announcements", verbose_name="対象の利用団体")
    created_by_label = models.CharField("作成者", max_length=255, blank=True)
    created_at = models.DateTimeField("作成日時", auto_now_add=True)
    updated_at = models.DateTimeField("更新日時", auto_now=True)

    class Meta:
        verbose_name = "お知らせ"
        verbose_name_plural = "お知らせ"
        ordering = ["-starts_at", "-id"]

    def __str__(self) -> str:
        return self.title


class TenantJob(models.Model):
    """A long operator task (provisioning, export, import, training reset) run by a worker, with progress."""

    class Kind(models.TextChoices):
        PROVISION = "provision", "利用団体の追加"
        EXPORT = "export", "環境の書き出し"
        IMPORT = "import", "環境の取り込み"
        RESET_TRAINING = "reset_training", "研修環境の初期化"

    class State(models.TextChoices):
        QUEUED = "queued", "待機中"
        RUNNING = "running", "実行中"
        DONE = "done", "完了"
        FAILED = "failed", "失敗"

    kind = models.CharField("種類", max_length=20, choices=Kind.choices)
    state = models.CharField("状態", max_length=10, choices=State.choices, default=State.QUEUED)
    progress = models.PositiveSmallIntegerField("進捗（%）", default=0)
    step = models.CharField("処理中の段階", max_length=200, blank=True)
    error = models.TextField("失敗の理由", blank=True)
    tenant = models.ForeignKey(Tenant, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs")
    tenant_slug = models.CharField("利用団体の識別子", max_length=31, blank=True)
    params = models.JSONField("指定内容", default=dict, blank=True)
    result = models.JSONField("結果", default=dict, blank=True)  # never a password: those go to a short-lived cache
    file_path = models.CharField("ファイル", max_length=500, blank=True)
    file_size = models.PositiveBigIntegerField("ファイルサイズ", null=True, blank=True)
    created_by_label = models.CharField("依頼者", max_length=255, blank=True)
    created_at = models.DateTimeField("依頼日時", auto_now_add=True)
    # Moved on every progress report: a redelivered task runs the job again only when this has gone stale.
    heartbeat_at = models.DateTimeField("最終報告日時", null=True, blank=True)
    finished_at = models.DateTimeField("終了日時", null=True, blank=True)

    class Meta:
        verbose_name = "運営ジョブ"
        verbose_name_plural = "運営ジョブ"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.tenant_slug} {self.state}"

    @property
    def is_finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED)
