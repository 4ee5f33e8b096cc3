"""A municipality's screening settings: what to do per personal-information type, and its banned words."""

from __future__ import annotations

from django.db import models


class Action(models.TextChoices):
    BLOCK = "block", "送信しない（利用者が修正）"
    CONFIRM = "confirm", "利用者に確認（マスクして送信を選べる）"
    MASK = "mask", "自動でマスクして送信"


class PiiPolicy(models.Model):
    pii_type = models.CharField("種類", max_length=32, unique=True)
    action = models.CharField("対応", max_length=16, choices=Action.choices)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "個人情報の対応方針"
        verbose_name_plural = "個人情報の対応方針"

    def __str__(self) -> str:
        return f"{self.pii_type}: {self.action}"


class BannedWord(models.Model):
    word = models.CharField("禁止語", max_length=100)
    normalized = models.CharField(max_length=100, unique=True)  # NFKC, case-folded, without spaces
    note = models.CharField("備考", max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "禁止語"
        verbose_name_plural = "禁止語"
        ordering = ["word"]

    def __str__(self) -> str:
        return self.word
