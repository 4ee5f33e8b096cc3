from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenants.models import Tenant
from tenants.training_env import DEFAULT_TRAINEES, MAX_TRAINEES, reset_training_tenant


class Command(BaseCommand):
    help = (
        "研修環境の利用団体を初期状態（研修用アカウント、サンプルの教材とナレッジ、初期テンプレート）に戻します。"
        "会話・文書・利用者など、その利用団体のデータはすべて削除されます。研修環境に指定した利用団体だけが対象です。"
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="研修環境の利用団体の識別子（例: kenshu）")
        parser.add_argument("--trainees", type=int, default=DEFAULT_TRAINEES,
                            help=f"受講者アカウントの数（1〜{MAX_TRAINEES}、既定 {DEFAULT_TRAINEES}）")
        parser.add_argument("--password",
                            help="受講者の共通パスワード（省略時は自動生成）。配布資料に印刷する場合に指定します。")
        parser.add_argument("--admin-password", help="研修用の管理者のパスワード（省略時は自動生成）")
        parser.add_argument("--noinput", "--no-input", action="store_false", dest="interactive",
                            help="確認の質問をせずに実行します。")

    def handle(self, *args, **options):
        tenant = Tenant.objects.filter(slug=options["slug"]).first()
        if tenant is None or tenant.is_public:
            raise CommandError(f"利用団体「{options['slug']}」は存在しません。")
        if options["interactive"]:
            answer = input(f"「{tenant.name}」（{tenant.slug}）のデータをすべて削除し、研修用の初期状態に戻します。"
                           "よろしいですか？ [y/N] ")
            if answer.strip().lower() not in {"y", "yes"}:
                raise CommandError("中止しました。何も変更していません。")

        def report(progress: int, step: str = "") -> None:
            if options["verbosity"] >= 2:
                self.stdout.write(f"  {progress:3d}% {step}")

        try:
            result = reset_training_tenant(
                tenant=tenant, actor_label="manage.py tenant_reset_training", report=report,
                trainees=options["trainees"], trainee_password=options["password"],
                admin_password=options["admin_password"],
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(f"研修環境「{tenant.name}」（{tenant.slug}）を初期状態に戻しました。")
        self.stdout.write(f"  URL: {result.url}")
        self.stdout.write(f"  研修用の管理者: {result.admin_staff_number}  パスワード: {result.admin_password}")
        self.stdout.write(f"  受講者: {result.trainee_numbers[0]}〜{result.trainee_numbers[-1]}"
                          f"（{len(result.trainee_numbers)}名）  共通パスワード: {result.trainee_password}")
        self.stdout.write("  サンプルのナレッジ「研修用サンプル」の文書は、ワーカーが取り込みます（数十秒）。")
        removed = "、".join(f"{k}={v}" for k, v in result.removed.items())
        self.stdout.write(f"  削除したデータ: {removed}")
