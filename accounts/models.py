"""Staff of a municipality (in its schema) and prefecture operators (in the public schema).

Uniqueness of staff numbers and e-mail addresses is per schema, so two municipalities may both have
職員番号 1001 without knowing of each other.
"""

from __future__ import annotations

import unicodedata

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import Group, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


def normalize_staff_number(value: str) -> str:
    # Staff type numbers with a Japanese IME as often as not: "１２３４" must match "1234".
    return unicodedata.normalize("NFKC", value or "").strip().upper()


def normalize_email(value: str) -> str:
    return unicodedata.normalize("NFKC", value or "").strip().lower()


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, staff_number: str, email: str, password: str | None = None, **extra):
        user = self.model(
            staff_number=normalize_staff_number(staff_number), email=normalize_email(email), **extra
        )
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, staff_number: str, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("role", User.Role.ADMIN)
        return self.create_user(staff_number, email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    class Role(models.TextChoices):
        ADMIN = "admin", "管理者"
        GENERAL = "general", "一般利用者"

    staff_number = models.CharField("職員番号", max_length=32, unique=True)
    email = models.EmailField("メールアドレス", max_length=254)
    full_name = models.CharField("氏名", max_length=100, blank=True)
    department = models.CharField("所属", max_length=100, blank=True)
    role = models.CharField("権限", max_length=16, choices=Role.choices, default=Role.GENERAL)
    is_active = models.BooleanField("有効", default=True)
    is_staff = models.BooleanField("Django管理サイト", default=False)
    must_change_password = models.BooleanField("次回ログイン時にパスワード変更", default=False)
    date_joined = models.DateTimeField("登録日時", default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "staff_number"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["email"]

    class Meta:
        verbose_name = "利用者"
        verbose_name_plural = "利用者"
        ordering = ["staff_number"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.full_name or self.email}（{self.staff_number}）"

    @property
    def is_tenant_admin(self) -> bool:
        return self.is_active and self.role == self.Role.ADMIN

    def clean(self) -> None:
        super().clean()
        self.staff_number = normalize_staff_number(self.staff_number)
        self.email = normalize_email(self.email)


class GroupPolicy(models.Model):
    """What the members of a group may use. A user in several groups gets what any of them allows."""

    group = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="policy")
    description = models.CharField("説明", max_length=200, blank=True)
    allowed_models = models.JSONField(
        "利用できるモデル", default=list, blank=True, help_text="空の場合は団体で利用できるすべてのモデル。"
    )
    can_share_templates = models.BooleanField("テンプレートを団体全体に共有できる", default=True)
    can_export_own_conversations = models.BooleanField("自分の会話をエクスポートできる", default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "グループの権限"
        verbose_name_plural = "グループの権限"

    def __str__(self) -> str:
        return f"{self.group.name}の権限"
