"""Prompt templates (テンプレート) with ``{{変数}}`` placeholders, their sharing scope and categories."""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models

BODY_MAX_CHARS = 10_000
VARIABLE_MAX_CHARS = 30
VALUE_MAX_CHARS = 20_000
PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.S)


def parse_variables(body: str) -> list[str]:
    """The variable names of ``body`` in order of first use; the same name used twice is one variable.

    Raises ValidationError with a Japanese message that names what is wrong and where.
    """
    errors: list[str] = []
    names: list[str] = []
    for match in PLACEHOLDER.finditer(body):
        raw = match.group(1)
        name = raw.strip()
        shown = match.group(0)[:40]
        if not name:
            errors.append(f"変数名が空です（{shown}）。{{{{対象}}}} のように名前を書いてください。")
        elif "{" in name or "}" in name:
            errors.append(f"変数「{shown}」の括弧が正しくありません。変数は {{{{対象}}}} のように書いてください。")
        elif "\n" in name:
            errors.append(f"変数「{shown}」の途中で改行しています。変数名は1行で書いてください。")
        elif len(name) > VARIABLE_MAX_CHARS:
            errors.append(f"変数名「{name[:20]}…」が長すぎます（{VARIABLE_MAX_CHARS}文字以内にしてください）。")
        elif name not in names:
            names.append(name)
    rest = PLACEHOLDER.sub("", body)
    if "{{" in rest:
        errors.append("「{{」に対応する「}}」がありません。変数は {{対象}} のように閉じてください。")
    if "}}" in rest:
        errors.append("「}}」に対応する「{{」がありません。変数は {{対象}} のように書いてください。")
    if errors:
        raise ValidationError(errors)
    return names


def fill(body: str, values: dict[str, str]) -> str:
    """Replace every ``{{name}}`` with its value; every variable must have a non-blank value."""
    names = parse_variables(body)
    missing = [name for name in names if not (values.get(name) or "").strip()]
    if missing:
        raise ValidationError([f"「{name}」を入力してください。" for name in missing])
    too_long = [name for name in names if len(values[name]) > VALUE_MAX_CHARS]
    if too_long:
        raise ValidationError([f"「{name}」が長すぎます（{VALUE_MAX_CHARS:,}文字以内）。" for name in too_long])
    # A function replacement, so a value containing backslashes or {{...}} is inserted literally.
    return PLACEHOLDER.sub(lambda m: values[m.group(1).strip()], body)


class PromptTemplate(models.Model):
    class Category(models.TextChoices):
        DOCUMENT = "document", "文書作成"
        SUMMARY = "summary", "要約"
        MINUTES = "minutes", "議事録"
        NOTICE = "notice", "住民向け案内文"
        EASY_JAPANESE = "easy_japanese", "やさしい日本語"
        TRANSLATION = "translation", "翻訳"
        EXCEL = "excel", "Excel関数"
        PLANNING = "planning", "企画"
        ANSWER = "answer", "答弁"
        PUBLICITY = "publicity", "広報"
        OTHER = "other", "その他"

    class Scope(models.TextChoices):
        PRIVATE = "private", "自分のみ"
        GROUPS = "groups", "選んだグループ"
        TENANT = "tenant", "団体全体"

    title = models.CharField("タイトル", max_length=100)
    category = models.CharField("カテゴリ", max_length=20, choices=Category.choices, default=Category.OTHER)
    description = models.CharField("説明", max_length=300, blank=True)
    body = models.TextField("本文", max_length=BODY_MAX_CHARS)
    scope = models.CharField("公開範囲", max_length=10, choices=Scope.choices, default=Scope.PRIVATE)
    groups = models.ManyToManyField(Group, blank=True, related_name="prompt_templates", verbose_name="グループ")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="prompt_templates", verbose_name="作成者")
    recommended = models.BooleanField("おすすめ", default=False)
    pinned = models.BooleanField("ピン留め", default=False)
    use_count = models.PositiveIntegerField("利用回数", default=0)
    copied_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="copies",
                                    verbose_name="コピー元")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "テンプレート"
        verbose_name_plural = "テンプレート"
        ordering = ["-pinned", "title"]

    def __str__(self) -> str:
        return self.title

    @property
    def variables(self) -> list[str]:
        try:
            return parse_variables(self.body)
        except ValidationError:
            return []

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        if not self.title.strip():
            errors["title"] = ["タイトルを入力してください。"]
        if not self.body.strip():
            errors["body"] = ["本文を入力してください。"]
        elif len(self.body) > BODY_MAX_CHARS:
            errors["body"] = [f"本文が長すぎます（{len(self.body):,}文字）。{BODY_MAX_CHARS:,}文字以内にしてください。"]
        else:
            try:
                parse_variables(self.body)
            except ValidationError as exc:
                errors["body"] = exc.messages
        if self.category not in self.Category.values:
            errors["category"] = ["カテゴリを一覧から選んでください。"]
        if self.scope not in self.Scope.values:
            errors["scope"] = ["公開範囲を選んでください。"]
        if errors:
            raise ValidationError(errors)
