"""学習: TIPS written by administrators, the 掲示板 (threads and posts) and the images tips embed."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Tip(models.Model):
    title = models.CharField("タイトル", max_length=200)
    body = models.TextField("本文（Markdown）", max_length=50_000)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    published = models.BooleanField("公開", default=False)
    # Set when first published: the NEW badge counts from here, not from the draft's creation.
    published_at = models.DateTimeField("公開日時", null=True, blank=True)
    created_at = models.DateTimeField("作成日時", auto_now_add=True)
    updated_at = models.DateTimeField("更新日時", auto_now=True)

    class Meta:
        ordering = ["-published_at", "-created_at"]
        verbose_name = "TIPS"
        verbose_name_plural = "TIPS"

    def __str__(self) -> str:
        return self.title


class TipRead(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    tip = models.ForeignKey(Tip, on_delete=models.CASCADE, related_name="reads")
    read_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "tip"], name="training_tipread_unique")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.tip_id}"


class TipImage(models.Model):
    """An image uploaded for tips; the file lives under MEDIA_ROOT/training/<schema>/."""

    file_path = models.CharField(max_length=500)
    content_type = models.CharField(max_length=50)
    original_name = models.CharField(max_length=255, blank=True)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.original_name or self.file_path


class Thread(models.Model):
    title = models.CharField("タイトル", max_length=200)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    pinned = models.BooleanField("ピン留め", default=False)
    locked = models.BooleanField("ロック", default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_posted_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-pinned", "-last_posted_at"]
        verbose_name = "スレッド"
        verbose_name_plural = "スレッド"

    def __str__(self) -> str:
        return self.title


class Post(models.Model):
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="posts")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    body = models.TextField("本文", max_length=20_000)
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    # A removed post keeps its text for audit; only who/when/why is added and the page hides the body.
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    removal_reason = models.CharField("削除理由", max_length=500, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.thread_id}#{self.pk}"

    @property
    def is_removed(self) -> bool:
        return self.removed_at is not None
