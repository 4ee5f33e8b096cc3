from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from audit.services import verify_chain


class Command(BaseCommand):
    help = "監査ログのハッシュチェーンを検証し、改ざんや欠落があれば最初の不整合の記録を示します。"

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="検証する利用団体の識別子（省略時はすべての団体と運営）")

    def handle(self, *args, **options):
        from tenants.crossing import in_tenant, municipalities
        from tenants.models import Tenant

        if options["tenant"]:
            tenant = Tenant.objects.filter(slug=options["tenant"]).first()
            if tenant is None:
                raise CommandError(f"利用団体「{options['tenant']}」は存在しません。")
            targets = [tenant]
        else:
            targets = [None, *municipalities()]
        broken = []
        for tenant in targets:
            if tenant is None:
                connection.set_schema_to_public()
                name, result = "運営（public）", verify_chain()
            else:
                with in_tenant(tenant):
                    name, result = f"{tenant.name}（{tenant.slug}）", verify_chain()
            intact, event = result
            if intact:
                self.stdout.write(f"OK  {name}")
            else:
                broken.append(name)
                self.stdout.write(
                    f"NG  {name}: 記録 #{event.id}（{event.created_at:%Y-%m-%d %H:%M:%S} {event.action}）"
                    "以降のチェーンが一致しません。この記録が変更・削除された可能性があります。"
                )
        if broken:
            raise CommandError(f"監査ログの不整合が見つかりました: {', '.join(broken)}")
