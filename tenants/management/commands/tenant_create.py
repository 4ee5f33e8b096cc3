from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenants.services import create_tenant, site_url


class Command(BaseCommand):
    help = "利用団体（テナント）を作成します。同じ識別子で再実行しても二重には作成しません。"

    def add_arguments(self, parser):
        parser.add_argument("slug", help="識別子（例: demo-a）。ホスト名 <識別子>.<ベースドメイン> になります。")
        parser.add_argument("--name", required=True, help="表示名（例: 〇〇市）")
        parser.add_argument("--admin-email", help="最初の管理者のメールアドレス")
        parser.add_argument("--admin-staff-number", help="最初の管理者の職員番号")
        parser.add_argument("--admin-password", help="最初の管理者の初期パスワード（省略時は自動生成）")
        parser.add_argument("--seat-cap", type=int, default=None, help="利用者数の上限（省略時は無制限）")
        parser.add_argument("--monthly-char-cap", type=int, default=1_000_000, help="月間文字数の上限")

    def handle(self, *args, **options):
        try:
            result = create_tenant(
                slug=options["slug"],
                name=options["name"],
                admin_email=options["admin_email"],
                admin_staff_number=options["admin_staff_number"],
                admin_password=options["admin_password"],
                seat_cap=options["seat_cap"],
                monthly_char_cap=options["monthly_char_cap"],
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        tenant = result.tenant
        verb = "作成しました" if result.created else "既に存在します（不足分のみ補いました）"
        self.stdout.write(f"利用団体「{tenant.name}」（{tenant.slug}）を{verb}。")
        self.stdout.write(f"  URL: {site_url(tenant.slug)}")
        if result.admin_created:
            self.stdout.write(f"  最初の管理者: {options['admin_staff_number']} / {options['admin_email']}")
            if options["admin_password"] is None:
                self.stdout.write(f"  初期パスワード（この一度だけ表示します）: {result.admin_password}")
