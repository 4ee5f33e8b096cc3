"""`manage.py tenant_export SLUG --out FILE.tar.gz`: a municipality's whole environment in one archive."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tenants.archive import ArchiveError, export_tenant
from tenants.archive.memory import peak_rss_mb
from tenants.models import PUBLIC_SCHEMA, Tenant


class Command(BaseCommand):
    help = ("利用団体の環境（利用者・設定・テンプレート・ナレッジと元ファイル・会話・利用記録・監査ログ）を"
            "1つのアーカイブ（.tar.gz）に書き出します。")

    def add_arguments(self, parser):
        parser.add_argument("slug", help="書き出す利用団体の識別子（例: demo-a）")
        parser.add_argument("--out", required=True, help="書き出し先のファイル（例: demo-a.tar.gz）")
        parser.add_argument("--force", action="store_true", help="書き出し先に同名のファイルがあれば上書きする")

    def handle(self, *args, **options):
        tenant = Tenant.objects.exclude(schema_name=PUBLIC_SCHEMA).filter(slug=options["slug"]).first()
        if tenant is None:
            raise CommandError(f"利用団体「{options['slug']}」は存在しません。識別子を確認してください。")
        out = Path(options["out"]).expanduser().resolve()
        if out.exists() and not options["force"]:
            raise CommandError(f"{out} は既に存在します。別のファイル名を指定するか --force を付けてください。")
        last = [-1]

        def report(progress: int, step: str = "") -> None:
            if progress // 10 != last[0] // 10 and options["verbosity"] >= 1:
                last[0] = progress
                self.stderr.write(f"  {progress:3d}% {step}")

        try:
            figures = export_tenant(tenant, out, report=report)
        except ArchiveError as exc:
            raise CommandError(str(exc)) from exc
        peak = peak_rss_mb()
        self.stdout.write(f"利用団体「{tenant.name}」（{tenant.slug}）を書き出しました: {out}")
        self.stdout.write(
            f"  表 {figures['tables']} / 行 {figures['rows']:,} / ファイル {figures['files']} 件 "
            f"（{figures['file_bytes'] / 2**20:.1f} MB）/ アーカイブ {figures['size'] / 2**20:.1f} MB / "
            f"{figures['seconds']} 秒 / 最大メモリ {peak:.0f} MB"
        )
        self.stdout.write(f"  SHA-256: {figures['sha256']}")
        for warning in figures["warnings"]:
            self.stdout.write(f"  注意: {warning}")
