"""Screen JSON-lines prompts for personal information, for evaluations and batch checks.

    python manage.py pii_scan < prompts.jsonl > findings.jsonl

Each input line is ``{"id": ..., "text": ...}``; each output line is ``{"id": ..., "findings": [{"type", "start",
"end"}]}`` with offsets into ``text``. No tenant and no policy are involved: this is the detector alone. Lines that
cannot be read are reported on stderr with their line number, the rest go on, and the exit status is then 1.
"""

from __future__ import annotations

import io
import json
import sys

from django.core.management.base import BaseCommand, CommandError

from guard.detectors import detect


def _utf8(stream) -> None:
    """Write UTF-8 whatever the locale says (a console set to C or CP932 must not lose 氏名 or fail)."""
    encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
    if hasattr(stream, "reconfigure") and encoding and encoding != "utf8":
        stream.reconfigure(encoding="utf-8")


class Command(BaseCommand):
    help = "標準入力のJSON Lines（id, text）から個人情報を検出し、検出結果をJSON Linesで標準出力に書き出します。"

    def handle(self, *args, **options):
        for wrapper in (self.stdout, self.stderr):
            _utf8(wrapper._out)
        stream = getattr(sys.stdin, "buffer", None)
        lines = io.TextIOWrapper(stream, encoding="utf-8", errors="replace") if stream is not None else sys.stdin
        failures = 0
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                failures += 1
                self.stderr.write(f"{number}行目: JSONとして読めません（{exc.msg}、{exc.colno}文字目）。")
                continue
            text = record.get("text") if isinstance(record, dict) else None
            if not isinstance(text, str):
                failures += 1
                self.stderr.write(f"{number}行目: 文字列の \"text\" がありません。")
                continue
            findings = [{"type": f.type, "start": f.start, "end": f.end} for f in detect(text)]
            self.stdout.write(json.dumps({"id": record.get("id"), "findings": findings}, ensure_ascii=False))
        self.stdout.flush()
        if failures:
            raise CommandError(f"{failures}行を読み取れませんでした。", returncode=1)
