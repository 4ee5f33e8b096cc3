"""The append-only, hash-chained audit trail, and the jobs that export it.

Every event stores the hash of the one before it, so removing or editing a row breaks the chain and
``audit.services.verify_chain`` finds it. Events are never updated: ``save`` refuses to change an existing row.
(``ExportJob`` is ordinary bookkeeping and is updated as the export progresses.)
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditRecordBase(models.Model):
    created_at = models.DateTimeField("日時", db_index=True)
    actor_id = models.BigIntegerField("操作者ID", null=True, blank=True)
    actor_label = models.CharField("操作者", max_length=255, blank=True)
    action = models.CharField("操作", max_length=64, db_index=True)
    target = models.CharField("対象", max_length=255, blank=True)
    detail = models.JSONField("詳細", default=dict, blank=True)
    ip_address = models.GenericIPAddressField("IPアドレス", null=True, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        abstract = True
        ordering = ["-id"]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("監査ログは追記のみです。既存の記録は変更できません。")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("監査ログは削除できません。")


class AuditEvent(AuditRecordBase):
    """An operation in one municipality: log-ins, failures, user and settings changes, imports, exports."""

    class Meta(AuditRecordBase.Meta):
        verbose_name = "監査ログ"
        verbose_name_plural = "監査ログ"

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.action} {self.target}"


class ExportJob(models.Model):
    """A background export of the prompt or operation log, as a file an administrator downloads.

    Every administrator of the municipality sees every job (they share the duty of reviewing logs); the row lives
    in the municipality's schema, so another municipality cannot name it at all.
    """

    class Kind(models.TextChoices):
        PROMPTS = "prompts", "プロンプトログ"
        OPERATIONS = "operations", "操作ログ"

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        JSONL = "jsonl", "JSON Lines"

    class State(models.TextChoices):
        QUEUED = "queued", "待機中"
        RUNNING = "running", "作成中"
        DONE = "done", "完了"
        FAILED = "failed", "失敗"

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="依頼者", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    requested_by_label = models.CharField("依頼者（記録時）", max_length=255, blank=True)
    kind = models.CharField("種類", max_length=16, choices=Kind.choices)
    format = models.CharField("形式", max_length=8, choices=Format.choices)
    filters = models.JSONField("絞り込み条件", default=dict, blank=True)
    # The newest event when the export was asked for: the file holds what the screen showed then, not rows
    # written while it was being made (the trail is append-only, so ids never move).
    until_event_id = models.BigIntegerField("対象の最後のイベントID", null=True, blank=True)
    state = models.CharField("状態", max_length=16, choices=State.choices, default=State.QUEUED)
    rows_done = models.BigIntegerField("書き出した件数", default=0)
    rows_total = models.BigIntegerField("全件数", null=True, blank=True)
    file_path = models.CharField("ファイル", max_length=500, blank=True)  # relative to MEDIA_ROOT
    file_size = models.BigIntegerField("ファイルサイズ", null=True, blank=True)
    error = models.CharField("エラー", max_length=500, blank=True)
    created_at = models.DateTimeField("依頼日時", default=timezone.now)
    started_at = models.DateTimeField("開始日時", null=True, blank=True)
    finished_at = models.DateTimeField("終了日時", null=True, blank=True)
    downloaded_at = models.DateTimeField("最終ダウンロード日時", null=True, blank=True)

    class Meta:
        verbose_name = "ログのエクスポート"
        verbose_name_plural = "ログのエクスポート"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.get_format_display()} #{self.pk}"

    @property
    def finished(self) -> bool:
        return self.state in {self.State.DONE, self.State.FAILED}

    @property
    def percent(self) -> int:
        if self.state == self.State.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(100, int(self.rows_done * 100 / self.rows_total))


class AuditAnchor(models.Model):
    """Where the trail starts after a retention purge: the hash of the last event removed.

    Verification starts from this hash instead of the genesis value, so a trail shortened by the retention
    policy still verifies, while any other removal or edit is still detected.
    """

    purged_through_id = models.BigIntegerField()
    purged_through_hash = models.CharField(max_length=64)
    removed = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"purged through #{self.purged_through_id}"
