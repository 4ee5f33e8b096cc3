"""`manage.py tenant_import FILE.tar.gz --slug NEW_SLUG [--name 表示名]`: an archive as a new municipality."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenants.archive import ArchiveError, import_archive
from tenants.archive.memory import peak_rss_mb


class Command(BaseCommand):
    help = ("tenant_export で書き出したアーカイブを、新しい識別子の利用団体として取り込みます。"
            "検証に通らないアーカイブは何も作成せずに拒否し、途中で失敗した場合もすべて取り消します。")

    def add_arguments(self, parser):
        parser.add_argument("archive", help="取り込むアーカイブ（.tar.gz）")
        parser.add_argument("--slug", required=True, help="新しい利用団体の識別子（既存の識別子は使えません）")
        parser.add_argument("--name", default=None, help="表示名（省略時は書き出し元の表示名）")

    def handle(self, *args, **options):
        path = Path(options["archive"]).expanduser().resolve()
        last = [-1]

        def report(progress: int, step: str = "") -> None:
            if progress // 10 != last[0] // 10 and options["verbosity"] >= 1:
                last[0] = progress
                self.stderr.write(f"  {progress:3d}% {step}")

        try:
            figures = import_archive(path, slug=options["slug"], name=options["name"], report=report)
        except ArchiveError as exc:
            raise CommandError(str(exc)) from exc
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        peak = peak_rss_mb()
        self.stdout.write(f"利用団体「{figures['name']}」（{figures['slug']}）として取り込みました"
                          f"（書き出し元: {figures['source_slug']}）。")
        self.stdout.write(f"  URL: {figures['url']}")
        self.stdout.write(f"  表 {figures['tables']} / 行 {figures['rows']:,} / ファイル {figures['files']} 件 / "
                          f"{figures['seconds']} 秒 / 最大メモリ {peak:.0f} MB")
        self.stdout.write("  利用者は書き出し元と同じ職員番号・パスワードでログインできます。")
        for warning in figures["warnings"]:
            self.stdout.write(f"  注意: {warning}")
