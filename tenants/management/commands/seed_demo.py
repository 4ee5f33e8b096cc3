from django.core.management.base import BaseCommand

from tenants.demo import seed_demo


class Command(BaseCommand):
    help = "デモ用の運営者と3つの架空の利用団体を、データが空のときだけ作成します。"

    def add_arguments(self, parser):
        parser.add_argument("--port", default="8000", help="案内に表示するポート番号")

    def handle(self, *args, **options):
        seeded = seed_demo()
        port = options["port"]
        if seeded:
            self.stdout.write("デモデータを作成しました。")
        else:
            self.stdout.write("既存のデータがあるため、デモデータの作成は省略しました。")
        from tenants.demo import DEMO_OPERATOR, DEMO_TENANTS

        self.stdout.write("")
        self.stdout.write(f"運営コンソール: http://localhost:{port}/")
        self.stdout.write(
            f"  運営者: {DEMO_OPERATOR['staff_number']} / {DEMO_OPERATOR['email']}  "
            f"パスワード: {DEMO_OPERATOR['password']}"
        )
        for tenant in DEMO_TENANTS:
            self.stdout.write(f"{tenant['name']}: http://{tenant['slug']}.localhost:{port}/")
            for user in tenant["users"]:
                role = "管理者" if user["role"] == "admin" else "一般"
                self.stdout.write(
                    f"  {role}: {user['staff_number']} / {user['email']}  パスワード: {user['password']}"
                )
