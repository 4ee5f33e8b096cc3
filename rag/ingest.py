"""Ingesting one document: parse, chunk, embed and index, moving it through 待機中 → 解析中 → 埋め込み中 → 利用可能.

Runs in a Celery worker in the municipality's schema. A failure leaves the document 失敗 with a Japanese reason
and no half-written passages (indexing replaces the chunks in one transaction).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils import timezone

from rag.models import Document

logger = logging.getLogger(__name__)


def _set(document: Document, **fields) -> None:
    for key, value in fields.items():
        setattr(document, key, value)
    Document.objects.filter(pk=document.pk).update(**fields)


def _parse_file(document: Document):
    from rag.parsing import Limits, parse

    with document.file.open("rb") as handle:
        data = handle.read()
    limits = Limits(max_file_bytes=getattr(settings, "AKAGI_RAG_MAX_FILE_BYTES", 50 * 1024 * 1024))
    return [parse(document.original_name or document.file.name, data, limits=limits)]


def _parse_url(document: Document):
    """Fetch a page (or crawl a site to the chosen depth within its host); linked PDFs and Office files too."""
    from rag import web
    from rag.parsing import ParsedDocument, ParseError, Section, parse

    depth = document.pages or 0
    results = web.crawl(document.url, depth=depth, max_pages=getattr(settings, "AKAGI_RAG_CRAWL_MAX_PAGES", 50))
    parsed = []
    for item in results:
        if isinstance(item, web.FetchedFile):
            try:
                parsed.append(parse(item.filename, item.data))
            except ParseError:
                # One unreadable linked file must not sink the pages that were read fine.
                logger.info("skipped linked file %s", item.final_url)
            continue
        if item.noindex or not item.text_sections:
            continue
        sections = [Section(text=text, heading_path=[item.title, *path] if item.title else list(path))
                    for path, text in item.text_sections if text.strip()]
        parsed.append(ParsedDocument(title=item.title or item.final_url, sections=sections, format="html"))
    if results:
        first = results[0]
        _set(document, final_url=first.final_url[:2000],
             title=(getattr(first, "title", "") or document.title)[:300])
    return parsed


def run(document_id: int) -> None:
    from rag.chunking import chunk
    from rag.indexing import index_document

    document = Document.objects.filter(pk=document_id).select_related("collection").first()
    if document is None:
        return  # deleted before the worker got to it
    try:
        _set(document, state=Document.State.PARSING, progress=5, error="")
        parsed_docs = _parse_file(document) if document.source == Document.Source.FILE else _parse_url(document)
        passages = []
        pages = 0
        for parsed in parsed_docs:
            passages.extend(chunk(parsed))
            pages += parsed.pages or 0
        if not passages:
            raise ValueError("文書から文章を取り出せませんでした。")
        # For a web page, ``pages`` holds the crawl depth chosen by staff (re-ingestion needs it again).
        page_count = {"pages": pages or None} if document.source == Document.Source.FILE else {}
        _set(document, state=Document.State.EMBEDDING, progress=20, **page_count)

        def on_progress(done: int, total: int) -> None:
            _set(document, progress=20 + int(75 * done / max(total, 1)))

        index_document(document, passages, on_progress=on_progress)
        _set(document, state=Document.State.READY, progress=100, chunk_count=len(passages),
             ingested_at=timezone.now())
    except Exception as exc:  # every failure must end in 失敗 with a reason staff can act on
        message = getattr(exc, "user_message", None) or (str(exc) if type(exc) is ValueError else "")
        if not message:
            logger.exception("ingestion of document %s failed", document_id)
            message = "取り込み中に予期しないエラーが発生しました。ファイルを確認して再度お試しください。"
        _set(document, state=Document.State.FAILED, error=message[:500])
