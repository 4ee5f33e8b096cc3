"""Writes to knowledge bases: collections and their access lists, adding, replacing and deleting documents.

Each write runs in one transaction with its audit event; ingestion is queued after commit.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta
from pathlib import PurePath

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone

from audit.services import record
from rag.models import Collection, Document

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
ALLOWED_EXTENSIONS = {".docx", ".xlsx", ".pptx", ".pdf", ".html", ".htm", ".txt", ".md", ".csv", ".doc", ".xls",
                      ".ppt"}


def _queue_ingestion(document: Document) -> None:
    from rag.tasks import ingest_document

    schema = connection.schema_name
    # The task carries the content it is for: a stale or redelivered message then knows it has nothing to do.
    args = [document.pk, document.content_hash]
    transaction.on_commit(lambda: ingest_document.apply_async(args=args, headers={"_schema_name": schema}))


def save_collection(*, actor, name: str, description: str = "", access: str = Collection.Access.PRIVATE,
                    group_ids: list[int] = (), user_ids: list[int] = (), collection: Collection | None = None,
                    request=None) -> Collection:
    from accounts.models import User

    name = (name or "").strip()
    if not name:
        raise ValidationError("コレクションの名前を入力してください。")
    if access not in Collection.Access.values:
        raise ValidationError("利用できる人の指定が正しくありません。")
    if access == Collection.Access.GROUPS and not group_ids:
        raise ValidationError("「選んだグループ」の場合は、グループを1つ以上選んでください。")
    if access == Collection.Access.USERS and not user_ids:
        raise ValidationError("「選んだ利用者」の場合は、利用者を1人以上選んでください。")
    with transaction.atomic():
        created = collection is None
        if created:
            collection = Collection(owner=actor)
        collection.name, collection.description, collection.access = name[:100], description.strip()[:300], access
        collection.save()
        collection.groups.set(Group.objects.filter(pk__in=group_ids) if access == Collection.Access.GROUPS else [])
        collection.users.set(User.objects.filter(pk__in=user_ids) if access == Collection.Access.USERS else [])
        record(action="rag.collection.create" if created else "rag.collection.update", actor=actor,
               target=f"collection:{collection.pk}", detail={"name": collection.name, "access": access},
               request=request)
    return collection


def delete_collection(*, actor, collection: Collection, request=None) -> None:
    with transaction.atomic():
        record(action="rag.collection.delete", actor=actor, target=f"collection:{collection.pk}",
               detail={"name": collection.name, "documents": collection.documents.count()}, request=request)
        for document in collection.documents.all():
            document.file.delete(save=False)
        collection.delete()


def add_file(*, actor, collection: Collection, filename: str, data: bytes, replace: Document | None = None,
             request=None) -> tuple[Document, bool]:
    """Store an uploaded file and queue its ingestion. Returns (document, created); the same content is not
    stored twice in a collection (the existing document is returned with created=False)."""
    name = PurePath(filename or "").name[:300]
    suffix = PurePath(name).suffix.lower()
    if suffix not in ALLOWED_EXTENSIONS:
        raise ValidationError(f"「{name}」は取り込めない形式です。Word・Excel・PowerPoint・PDF・HTML・テキスト・CSV"
                              "のファイルを選んでください。")
    if not data:
        raise ValidationError(f"「{name}」は空のファイルです。")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationError(f"「{name}」は大きすぎます（上限 {MAX_UPLOAD_BYTES // (1024 * 1024)}MB）。")
    digest = hashlib.sha256(data).hexdigest()
    existing = collection.documents.filter(content_hash=digest).first()
    if existing and existing != replace:
        return existing, False
    with transaction.atomic():
        if replace is not None:
            document = replace
            document.file.delete(save=False)
            document.chunks.all().delete()
        else:
            document = Document(collection=collection, created_by=actor)
        document.title = PurePath(name).stem[:300] or name
        document.original_name = name
        document.source = Document.Source.FILE
        document.content_hash = digest
        document.state, document.progress, document.error, document.chunk_count = Document.State.QUEUED, 0, "", 0
        document.warnings, document.attempts = [], 0
        document.file.save(name, ContentFile(data), save=False)
        document.save()
        record(action="rag.document.replace" if replace else "rag.document.add", actor=actor,
               target=f"document:{document.pk}", detail={"collection": collection.pk, "name": name,
                                                           "bytes": len(data)}, request=request)
        _queue_ingestion(document)
    return document, True


def add_url(*, actor, collection: Collection, url: str, depth: int = 0, request=None) -> Document:
    url = (url or "").strip()
    if not url.startswith(("http://", "https://")):
        raise ValidationError("http:// または https:// で始まるURLを入力してください。")
    if not 0 <= depth <= 3:
        raise ValidationError("たどる深さは0〜3の範囲で指定してください。")
    digest = hashlib.sha256(f"url:{url}:{depth}".encode()).hexdigest()
    existing = collection.documents.filter(content_hash=digest).first()
    if existing:
        return existing
    with transaction.atomic():
        document = Document.objects.create(
            collection=collection, created_by=actor, title=url[:300], source=Document.Source.URL, url=url,
            content_hash=digest, pages=depth,
        )
        record(action="rag.document.add_url", actor=actor, target=f"document:{document.pk}",
               detail={"collection": collection.pk, "url": url, "depth": depth}, request=request)
        _queue_ingestion(document)
    return document


def delete_document(*, actor, document: Document, request=None) -> None:
    with transaction.atomic():
        record(action="rag.document.delete", actor=actor, target=f"document:{document.pk}",
               detail={"title": document.title, "collection": document.collection_id}, request=request)
        document.file.delete(save=False)
        document.delete()  # its chunks go with it (CASCADE)


def reingest(*, actor, document: Document, request=None) -> None:
    with transaction.atomic():
        Document.objects.filter(pk=document.pk).update(state=Document.State.QUEUED, progress=0, error="",
                                                       attempts=0, updated_at=timezone.now())
        record(action="rag.document.reingest", actor=actor, target=f"document:{document.pk}", request=request)
        _queue_ingestion(document)


def stale_after() -> timedelta:
    """How long a document may sit 待機中/解析中/埋め込み中 without progress before its task counts as lost.

    Longer than the broker's own redelivery of a message whose worker died (its visibility timeout), so the
    sweep only steps in when the message itself is gone. ``AKAGI_RAG_STALE_AFTER_SECONDS`` overrides it.
    """
    configured = getattr(settings, "AKAGI_RAG_STALE_AFTER_SECONDS", None)
    if configured:
        return timedelta(seconds=int(configured))
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", None) or {}
    return timedelta(seconds=int(options.get("visibility_timeout", 3600)) + 15 * 60)


def requeue_stale_documents(*, older_than: timedelta | None = None) -> list[int]:
    """Queue again the documents of this municipality whose ingestion made no progress for ``older_than``
    (default ``stale_after()``): their task was lost. Returns their ids.

    They go back to 待機中 and keep their attempt count, so one that keeps stopping its worker ends 失敗
    (``rag.ingest.MAX_ATTEMPTS``). A document whose task was only slow is ingested twice at worst, which
    ``rag.ingest`` makes harmless.
    """
    cutoff = timezone.now() - (older_than if older_than is not None else stale_after())
    unfinished = [Document.State.QUEUED, Document.State.PARSING, Document.State.EMBEDDING]
    requeued: list[int] = []
    with transaction.atomic():
        stale = Document.objects.select_for_update(skip_locked=True).filter(state__in=unfinished,
                                                                             updated_at__lt=cutoff)
        for document in stale.only("pk", "content_hash", "state", "title"):
            Document.objects.filter(pk=document.pk).update(state=Document.State.QUEUED, progress=0,
                                                           updated_at=timezone.now())
            record(action="rag.document.requeue", actor_label="システム", target=f"document:{document.pk}",
                   detail={"title": document.title, "state": document.state})
            _queue_ingestion(document)
            requeued.append(document.pk)
    if requeued:
        logger.warning("requeued %d documents whose ingestion had stopped: %s", len(requeued), requeued)
    return requeued
