from django.apps import AppConfig


class GuardConfig(AppConfig):
    name = "guard"
    verbose_name = "個人情報・禁止語の確認"
