"""The append-only, hash-chained audit trail.

Every event stores the hash of the one before it, so removing or editing a row breaks the chain and
``audit.services.verify_chain`` finds it. Rows are never updated: ``save`` refuses to change an existing row.
"""

from __future__ import annotations

from django.db import models


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
