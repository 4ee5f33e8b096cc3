from django.core.management.base import BaseCommand, CommandError

from tenants.crossing import in_tenant
from tenants.models import Tenant


class Command(BaseCommand):
    help = "指定した利用団体のスキーマでワーカーがタスクを実行できるか確認します。"

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--timeout", type=float, default=30.0)

    def handle(self, *args, **options):
        from config.tasks import diagnose

        tenant = Tenant.objects.filter(slug=options["slug"]).first()
        if tenant is None:
            raise CommandError(f"利用団体「{options['slug']}」は存在しません。")
        with in_tenant(tenant):
            result = diagnose.delay().get(timeout=options["timeout"])
        self.stdout.write(f"ワーカーは {result['schema']} で実行しました（利用者 {result['users']} 名）。")
