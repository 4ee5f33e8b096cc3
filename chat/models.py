"""Conversations and their messages (tenant schema)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ChatSettings(models.Model):
    """One row per municipality: the default model and which models staff may choose."""

    default_model = models.CharField("既定のモデル", max_length=100, blank=True)
    user_models = models.JSONField("利用者が選べるモデル", default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "チャットの設定"
        verbose_name_plural = "チャットの設定"

    def __str__(self) -> str:
        return f"ChatSettings(default={self.default_model})"

    @classmethod
    def load(cls) -> ChatSettings:
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj


class Conversation(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations")
    title = models.CharField("タイトル", max_length=100, default="新しい会話")
    model_name = models.CharField("モデル", max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = "会話"
        verbose_name_plural = "会話"
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return self.title


class Message(models.Model):
    class Role(models.TextChoices):
        USER = "user", "利用者"
        ASSISTANT = "assistant", "AI"

    class Status(models.TextChoices):
        COMPLETE = "complete", "完了"
        PARTIAL = "partial", "途中で終了"
        FAILED = "failed", "失敗"
        BLOCKED = "blocked", "送信せず"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=16, choices=Role.choices)
    content = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.COMPLETE)
    status_note = models.CharField(max_length=300, blank=True)
    model_name = models.CharField(max_length=100, blank=True)
    chars = models.PositiveIntegerField(default=0)
    offline = models.BooleanField(default=False)
    # The knowledge-base passages the answer cites ([n] marks it used), and the collections searched.
    citations = models.JSONField(default=list, blank=True)
    collection_ids = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:30]}"
