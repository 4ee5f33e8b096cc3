"""Ingest every file of a directory into one collection, synchronously, for evaluations and benchmarks.

  python manage.py rag_ingest_dir --tenant SLUG --collection NAME DIR [--target-chars 500 ...]

Parses with ``rag.parsing.parse``, cuts with ``rag.chunking.chunk`` (its sizes can be set here) and writes with
``rag.indexing.index_document``: the same steps as the ingestion worker, without the queue and without
keeping the files (documents record their file name and content hash only, so citations cannot open them).
The collection is created when missing (``--access``, default everyone). A file whose content is already a
document of the collection, ready and embedded with the current model, is skipped, so an interrupted run can
be restarted; ``--replace`` re-ingests everything. A file that cannot be read fails alone, with its reason.
For staff-facing ingestion use the web page or ``rag_ingest``.
"""

from __future__ import annotations

import hashlib
import json
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from rag.management.commands._common import get_tenant, get_user


def _parse_and_chunk(path: str, name: str, sizes: dict) -> tuple:
    """Runs in a worker process when --jobs > 1: pure functions, no Django, no database."""
    data = Path(path).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    try:
        from rag.chunking import chunk
        from rag.parsing import ParseError, parse
    except ImportError:  # the parser is not there yet: plain text only
        if not name.lower().endswith(".txt"):
            return digest, None, None, None, "解析モジュールがないため .txt 以外は取り込めません。"
        text = data.decode("utf-8", errors="replace")
        return digest, Path(name).stem, None, [_plain_passage(text)], None
    started = time.monotonic()
    try:
        parsed = parse(name, data)
    except ParseError as exc:
        return digest, None, None, None, exc.user_message
    passages = chunk(parsed, **sizes)
    return digest, parsed.title, parsed.pages, passages, time.monotonic() - started


def _plain_passage(text: str):
    from types import SimpleNamespace

    return SimpleNamespace(text=text.strip(), heading_path=[], page=None, slide=None, sheet=None, cells=None,
                           search_text=text.strip())


class Command(BaseCommand):
    help = "ディレクトリ内のファイルをすべて、指定したコレクションに同期的に取り込みます（評価・計測用）。"

    def add_arguments(self, parser):
        parser.add_argument("directory")
        parser.add_argument("--tenant", required=True, help="利用団体の識別子（slug）")
        parser.add_argument("--collection", required=True, help="コレクション名（なければ作成）")
        parser.add_argument("--owner", help="作成するコレクションの作成者の職員番号（省略時は最初の管理者）")
        parser.add_argument("--access", default="all", choices=["all", "groups", "users", "private"])
        parser.add_argument("--replace", action="store_true", help="取り込み済みの文書も取り込み直す")
        parser.add_argument("--jobs", type=int, default=1, help="解析を並行して行うプロセス数")
        parser.add_argument("--target-chars", type=int, default=None)
        parser.add_argument("--max-chars", type=int, default=None)
        parser.add_argument("--overlap-chars", type=int, default=None)
        parser.add_argument("--quiet", action="store_true", help="ファイルごとの行を出さない")

    def handle(self, *args, **options):
        from tenants.crossing import in_tenant

        directory = Path(options["directory"])
        if not directory.is_dir():
            raise CommandError(f"ディレクトリ {directory} がありません。")
        with in_tenant(get_tenant(options["tenant"])):
            summary = self._run(directory, options)
        self.stdout.write(json.dumps(summary, ensure_ascii=False))

    def _run(self, directory: Path, options) -> dict:
        from django.utils import timezone

        from llm.embeddings import embedding_model_name
        from rag.indexing import index_document
        from rag.models import Collection, Document

        owner = get_user(options["owner"])
        collection, _ = Collection.objects.get_or_create(
            name=options["collection"], defaults={"owner": owner, "access": options["access"]}
        )
        sizes = {key: options[option] for key, option in (
            ("target_chars", "target_chars"), ("max_chars", "max_chars"), ("overlap_chars", "overlap_chars"),
        ) if options[option] is not None}
        files = sorted(path for path in directory.rglob("*") if path.is_file() and not path.name.startswith("."))
        model = embedding_model_name()
        done = {
            digest for digest, in Document.objects.filter(
                collection=collection, state=Document.State.READY, embedding_model=model, chunk_count__gt=0,
            ).values_list("content_hash")
        } if not options["replace"] else set()
        counts = {"files": len(files), "ready": 0, "failed": 0, "skipped": 0, "passages": 0}
        parse_seconds = index_seconds = 0.0
        started = time.monotonic()

        jobs = max(1, options["jobs"])
        pool = ProcessPoolExecutor(max_workers=jobs) if jobs > 1 else None
        try:
            names = [path.relative_to(directory).as_posix() for path in files]
            if pool is not None:
                results = pool.map(_parse_and_chunk, map(str, files), names, [sizes] * len(files), chunksize=4)
            else:
                results = (_parse_and_chunk(str(path), name, sizes) for path, name in zip(files, names, strict=True))
            for name, (digest, title, pages, passages, extra) in zip(names, results, strict=True):
                if digest in done:
                    counts["skipped"] += 1
                    continue
                document, _ = Document.objects.update_or_create(
                    collection=collection, content_hash=digest,
                    defaults={"title": (title or Path(name).stem)[:300], "original_name": name[:300],
                              "source": Document.Source.FILE, "created_by": owner, "pages": pages,
                              "state": Document.State.PARSING, "error": "", "progress": 5},
                )
                if passages is None:
                    Document.objects.filter(pk=document.pk).update(state=Document.State.FAILED, error=extra[:500])
                    counts["failed"] += 1
                    self._line(options, f"{name}\t失敗\t{extra}")
                    continue
                parse_seconds += extra or 0.0
                index_started = time.monotonic()
                written = index_document(document, passages)
                index_seconds += time.monotonic() - index_started
                Document.objects.filter(pk=document.pk).update(
                    state=Document.State.READY, progress=100, ingested_at=timezone.now()
                )
                done.add(digest)
                counts["ready"] += 1
                counts["passages"] += written
                self._line(options, f"{name}\t利用可能\t{written} パッセージ")
        finally:
            if pool is not None:
                pool.shutdown()
        elapsed = time.monotonic() - started
        return {
            **counts, "collection_id": collection.pk, "embedding_model": model, "seconds": round(elapsed, 1),
            "parse_seconds": round(parse_seconds, 1), "index_seconds": round(index_seconds, 1),
            "documents_per_second": round(counts["ready"] / elapsed, 2) if elapsed else None,
            "chunk_sizes": sizes or "defaults",
        }

    def _line(self, options, text: str) -> None:
        if not options["quiet"]:
            self.stderr.write(text)
