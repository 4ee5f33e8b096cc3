from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audit.services import purge_older_than


class Command(BaseCommand):
    help = (
        "保存期間（AKAGI_AUDIT_RETENTION_DAYS）を過ぎた監査ログを削除します。未設定なら何もしません（既定はすべて保存）。"
        "削除後もハッシュチェーンは audit_verify で検証できます。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, help="保存期間（日）。省略時は AKAGI_AUDIT_RETENTION_DAYS")

    def handle(self, *args, **options):
        from tenants.crossing import in_tenant, municipalities

        days = options["days"] or settings.AKAGI_AUDIT_RETENTION_DAYS
        if days is None:
            self.stdout.write("保存期間が設定されていないため、監査ログは削除しません（すべて保存）。")
            return
        if days < 1:
            raise CommandError("保存期間は1日以上で指定してください。")
        for tenant in municipalities():
            with in_tenant(tenant):
                removed = purge_older_than(days)
            self.stdout.write(f"{tenant.name}（{tenant.slug}）: {removed} 件を削除しました。")
