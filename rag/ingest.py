"""Ingesting one document: parse, chunk, embed and index, moving it through 待機中 → 解析中 → 埋め込み中 → 利用可能.

Runs in a Celery worker in the municipality's schema. A failure leaves the document 失敗 with a Japanese reason
and no half-written passages.

Delivery is at least once (acks_late, and the task is rejected back to the queue when its worker process dies),
so ``run`` must be safe to run twice, or twice at once:

- the task carries the content hash it was queued for. A run for content the document no longer has (a
  replacement was uploaded) does nothing, and every write of a run is conditional on that hash, so a stale run
  can neither mark the replacement 失敗 nor write its passages (``rag.indexing.DocumentSuperseded``);
- a message for a document already 利用可能 or 失敗 with that hash is a redelivery of work that finished: it does
  nothing. 再取り込み and a new upload set 待機中 before they queue a task, so they are never skipped;
- the chunks are replaced, and the document marked 利用可能, in one transaction holding the document's row lock
  (``rag.indexing.index_document``): a worker killed at any point leaves either the previous set or the new one,
  never both, and a retry ends with exactly one set;
- each run counts itself in ``attempts``; a document that has killed its worker ``MAX_ATTEMPTS`` times (one that
  runs the worker out of memory would otherwise be delivered again forever) ends 失敗 with a reason.

A message lost altogether (the broker's data lost, a publish that failed after commit) leaves the document
待機中/解析中/埋め込み中 with no task behind it: ``rag.services.requeue_stale_documents`` (a periodic task) queues
such documents again once they have made no progress for longer than the broker's own redelivery would take.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from rag.models import Document

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
TOO_MANY_ATTEMPTS_MESSAGE = (
    f"取り込みが {MAX_ATTEMPTS} 回とも途中で止まりました（処理中に取り込み用のプロセスが停止しました）。"
    "ファイルが大きすぎる可能性があります。ファイルを分けてアップロードするか、システム管理者に連絡してください。"
)
UNEXPECTED_MESSAGE = "取り込み中に予期しないエラーが発生しました。ファイルを確認して再度お試しください。"
MAX_WARNINGS = 20
_FINISHED = (Document.State.READY, Document.State.FAILED)


class _Run:
    """One ingestion run of one document: its writes apply only while the document has the run's content."""

    def __init__(self, document: Document):
        self.document = document
        self.content_hash = document.content_hash
        self.warnings: list[str] = []

    def set(self, **fields) -> None:
        for key, value in fields.items():
            setattr(self.document, key, value)
        # updated_at shows the run is alive (the stale-document sweep looks at it); .update() skips auto_now.
        Document.objects.filter(pk=self.document.pk, content_hash=self.content_hash).update(
            updated_at=timezone.now(), **fields
        )

    def warn(self, message: str) -> None:
        if message and message not in self.warnings and len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(message[:300])


def _claim(document_id: int, content_hash: str | None) -> Document | None:
    """The document, now 解析中 with this run counted, or None when there is nothing (left) to do."""
    with transaction.atomic():
        document = (Document.objects.select_for_update(of=("self",)).filter(pk=document_id)
                    .select_related("collection").first())
        if document is None:
            return None  # deleted before the worker got to it
        if content_hash is not None:
            if document.content_hash != content_hash:
                logger.info("document %s was replaced since this task was queued; its own task ingests it",
                            document_id)
                return None
            if document.state in _FINISHED:
                logger.info("document %s is already %s: a redelivered task, nothing to do", document_id,
                            document.state)
                return None
        # Counted from the last request: a finished document run again directly (tests, commands) starts afresh.
        attempts = 1 if document.state in _FINISHED else document.attempts + 1
        if attempts > MAX_ATTEMPTS:
            logger.warning("document %s interrupted %d times: giving up", document_id, document.attempts)
            Document.objects.filter(pk=document.pk).update(
                state=Document.State.FAILED, error=TOO_MANY_ATTEMPTS_MESSAGE, updated_at=timezone.now())
            return None
        fields = {"state": Document.State.PARSING, "progress": 5, "error": "", "warnings": [], "attempts": attempts,
                  "updated_at": timezone.now()}
        Document.objects.filter(pk=document.pk).update(**fields)
        for key, value in fields.items():
            setattr(document, key, value)
    return document


def _parse_file(run: _Run):
    from rag.parsing import Limits, parse

    document = run.document
    with document.file.open("rb") as handle:
        data = handle.read()
    limits = Limits(max_file_bytes=getattr(settings, "AKAGI_RAG_MAX_FILE_BYTES", 50 * 1024 * 1024))
    return [parse(document.original_name or document.file.name, data, limits=limits)]


def _parse_url(run: _Run):
    """Fetch a page (or crawl a site to the chosen depth within its host); linked PDFs and Office files too."""
    from rag import web
    from rag.parsing import ParsedDocument, ParseError, Section, parse

    document = run.document
    skipped: list[tuple[str, str]] = []

    def on_skip(url: str, error) -> None:
        # Pages without main text, noindex pages and links off the site are what a crawl expects to pass by.
        if error.code not in ("empty", "robots", "other_host"):
            skipped.append((url, error.user_message))

    depth = document.pages or 0
    results = web.crawl(document.url, depth=depth, max_pages=getattr(settings, "AKAGI_RAG_CRAWL_MAX_PAGES", 50),
                        on_skip=on_skip)
    parsed = []
    for item in results:
        if isinstance(item, web.FetchedFile):
            try:
                linked = parse(item.filename, item.data)
            except ParseError as error:
                # One unreadable linked file must not sink the pages that were read fine.
                logger.info("skipped linked file %s", item.final_url)
                run.warn(f"リンク先のファイル「{item.filename}」は読み込めなかったため取り込んでいません"
                         f"（{error.user_message}）")
                continue
            for warning in linked.warnings:
                run.warn(f"「{item.filename}」: {warning}")
            parsed.append(linked)
            continue
        if item.noindex or not item.text_sections:
            continue
        sections = [Section(text=text, heading_path=[item.title, *path] if item.title else list(path))
                    for path, text in item.text_sections if text.strip()]
        parsed.append(ParsedDocument(title=item.title or item.final_url, sections=sections, format="html"))
    if skipped:
        examples = "、".join(f"{url}（{reason}）" for url, reason in skipped[:3])
        more = f" ほか {len(skipped) - 3} 件" if len(skipped) > 3 else ""
        run.warn(f"リンク先の {len(skipped)} ページを取得できなかったため取り込んでいません: {examples}{more}")
    if results:
        first = results[0]
        run.set(final_url=first.final_url[:2000], title=(getattr(first, "title", "") or document.title)[:300])
    return parsed


def run(document_id: int, *, content_hash: str | None = None) -> None:
    """Ingest the document; ``content_hash`` is what the task was queued for (None: ingest whatever it holds)."""
    from rag.chunking import chunk
    from rag.indexing import DocumentSuperseded, index_document

    document = _claim(document_id, content_hash)
    if document is None:
        return
    current = _Run(document)
    try:
        parsed_docs = _parse_file(current) if document.source == Document.Source.FILE else _parse_url(current)
        passages = []
        pages = 0
        for parsed in parsed_docs:
            passages.extend(chunk(parsed))
            pages += parsed.pages or 0
            if document.source == Document.Source.FILE:
                for warning in parsed.warnings:
                    current.warn(warning)
        if not passages:
            raise ValueError("文書から文章を取り出せませんでした。")
        # For a web page, ``pages`` holds the crawl depth chosen by staff (re-ingestion needs it again).
        page_count = {"pages": pages or None} if document.source == Document.Source.FILE else {}
        current.set(state=Document.State.EMBEDDING, progress=20, warnings=current.warnings, **page_count)

        def on_progress(done: int, total: int) -> None:
            current.set(progress=20 + int(75 * done / max(total, 1)))

        index_document(
            document, passages, on_progress=on_progress, content_hash=current.content_hash,
            document_fields={"state": Document.State.READY, "progress": 100, "ingested_at": timezone.now(),
                             "warnings": current.warnings, "updated_at": timezone.now()},
        )
    except DocumentSuperseded:
        logger.info("document %s was replaced or deleted during its ingestion; nothing written", document_id)
    except Exception as exc:  # every failure must end in 失敗 with a reason staff can act on
        message = getattr(exc, "user_message", None) or (str(exc) if type(exc) is ValueError else "")
        if not message:
            logger.exception("ingestion of document %s failed", document_id)
            message = UNEXPECTED_MESSAGE
        current.set(state=Document.State.FAILED, error=message[:500], warnings=current.warnings)
