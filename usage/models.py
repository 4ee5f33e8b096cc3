"""Per-prompt usage records and per-user monthly counters (tenant schema).

The municipality-wide counter is ``tenants.MonthlyUsage`` in the public schema.
Characters are the billing unit: the characters of the prompt as sent plus the characters of the answer.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class UsageSettings(models.Model):
    """One row per municipality: limits its administrator sets."""

    per_user_monthly_limit = models.PositiveBigIntegerField(
        "1人あたりの月間文字数の上限", null=True, blank=True, help_text="空欄は上限なし（団体全体の上限のみ）。"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "利用量の設定"
        verbose_name_plural = "利用量の設定"

    def __str__(self) -> str:
        return f"UsageSettings(per_user={self.per_user_monthly_limit})"

    @classmethod
    def load(cls) -> UsageSettings:
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj


class UserMonthlyUsage(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="monthly_usage")
    month = models.DateField("月")
    used_chars = models.BigIntegerField("使用文字数（予約を含む）", default=0)
    prompts = models.PositiveIntegerField("プロンプト数", default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "month"], name="usage_user_month_unique"),
            models.CheckConstraint(condition=models.Q(used_chars__gte=0), name="usage_user_month_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.month:%Y-%m}: {self.used_chars}"


class UsageRecord(models.Model):
    """One prompt's metering, kept even when the user or the conversation is deleted."""

    class Status(models.TextChoices):
        SENT = "sent", "送信"
        MASKED = "masked", "マスクして送信"
        BLOCKED = "blocked", "ブロック"
        REFUSED = "refused", "上限により拒否"
        FAILED = "failed", "失敗"
        CANCELLED = "cancelled", "中断"

    created_at = models.DateTimeField("日時", auto_now_add=True, db_index=True)
    month = models.DateField("月", db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    user_label = models.CharField("利用者", max_length=255, blank=True)
    conversation_id = models.BigIntegerField(null=True, blank=True)
    model_name = models.CharField("モデル", max_length=100, blank=True)
    status = models.CharField("結果", max_length=16, choices=Status.choices)
    prompt_chars = models.PositiveIntegerField("プロンプト文字数", default=0)
    answer_chars = models.PositiveIntegerField("回答文字数", default=0)
    prompt_tokens = models.PositiveIntegerField("入力トークン", null=True, blank=True)
    completion_tokens = models.PositiveIntegerField("出力トークン", null=True, blank=True)
    cost_yen = models.DecimalField("費用（円）", max_digits=12, decimal_places=4, default=0)
    first_token_ms = models.PositiveIntegerField("最初の応答までの時間（ミリ秒）", null=True, blank=True)
    latency_ms = models.PositiveIntegerField("所要時間（ミリ秒）", null=True, blank=True)

    class Meta:
        verbose_name = "利用記録"
        verbose_name_plural = "利用記録"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.user_label} {self.status}"

    @property
    def total_chars(self) -> int:
        return self.prompt_chars + self.answer_chars
