from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenants.models import Tenant
from tenants.plans import set_plan


class Command(BaseCommand):
    help = (
        "利用団体のプラン（利用者数の上限、月間文字数の上限、月間利用料金の上限、利用できるモデル）を変更します。"
        "次の依頼から反映されます。"
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--seat-cap", help="利用者数の上限（数値、または unlimited）")
        parser.add_argument("--monthly-char-cap", type=int, help="月間文字数の上限")
        parser.add_argument("--monthly-price-cap-yen", help="月間利用料金の上限（円。none で上限なし）")
        parser.add_argument("--models", help="利用を認めるモデル名（カンマ区切り。all ですべて）")

    def handle(self, *args, **options):
        tenant = Tenant.objects.filter(slug=options["slug"]).first()
        if tenant is None or tenant.is_public:
            raise CommandError(f"利用団体「{options['slug']}」は存在しません。")
        changes = {}
        if options["seat_cap"] is not None:
            raw = options["seat_cap"].strip().lower()
            if raw in {"unlimited", "none", "無制限"}:
                changes["seat_cap"] = None
            elif raw.isdigit():
                changes["seat_cap"] = int(raw)
            else:
                raise CommandError("--seat-cap には数値か unlimited を指定してください。")
        if options["monthly_char_cap"] is not None:
            changes["monthly_char_cap"] = options["monthly_char_cap"]
        if options["monthly_price_cap_yen"] is not None:
            raw = options["monthly_price_cap_yen"].strip().lower()
            if raw in {"none", "unlimited", "なし"}:
                changes["monthly_price_cap_yen"] = None
            elif raw.isdigit():
                changes["monthly_price_cap_yen"] = int(raw)
            else:
                raise CommandError("--monthly-price-cap-yen には0以上の整数（円）か none を指定してください。")
        if options["models"] is not None:
            raw = options["models"].strip()
            changes["allowed_models"] = [] if raw in {"", "all"} else [m.strip() for m in raw.split(",") if m.strip()]
        if not changes:
            raise CommandError(
                "変更する項目を指定してください"
                "（--seat-cap / --monthly-char-cap / --monthly-price-cap-yen / --models）。"
            )
        try:
            diff = set_plan(tenant=tenant, changes=changes, actor=None)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        for field, values in diff.items():
            self.stdout.write(f"{field}: {values['before']} → {values['after']}")
        if not diff:
            self.stdout.write("変更はありません。")
