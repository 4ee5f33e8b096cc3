"""Knowledge bases (コレクション) with access lists, their documents and the passages retrieval searches."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from pgvector.django import VectorField


class Collection(models.Model):
    class Access(models.TextChoices):
        ALL = "all", "団体の全員"
        GROUPS = "groups", "選んだグループ"
        USERS = "users", "選んだ利用者"
        PRIVATE = "private", "作成者のみ"

    name = models.CharField("名前", max_length=100)
    description = models.CharField("説明", max_length=300, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                              verbose_name="作成者")
    access = models.CharField("利用できる人", max_length=16, choices=Access.choices, default=Access.PRIVATE)
    groups = models.ManyToManyField(Group, blank=True, related_name="collections", verbose_name="グループ")
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="shared_collections",
                                   verbose_name="利用者")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "コレクション"
        verbose_name_plural = "コレクション"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def document_upload_path(document: Document, filename: str) -> str:
    from django.db import connection

    # Files of each municipality live under its own folder, named by content hash (never by the user's name).
    suffix = filename.rsplit(".", 1)[-1].lower()[:10] if "." in filename else "bin"
    return f"rag/{connection.schema_name}/{document.collection_id}/{document.content_hash}.{suffix}"


class Document(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", "待機中"
        PARSING = "parsing", "解析中"
        EMBEDDING = "embedding", "埋め込み中"
        READY = "ready", "利用可能"
        FAILED = "failed", "失敗"

    class Source(models.TextChoices):
        FILE = "file", "ファイル"
        URL = "url", "Webページ"

    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="documents")
    title = models.CharField("タイトル", max_length=300)
    source = models.CharField("種類", max_length=8, choices=Source.choices, default=Source.FILE)
    file = models.FileField(upload_to=document_upload_path, max_length=500, blank=True)
    original_name = models.CharField("ファイル名", max_length=300, blank=True)
    url = models.URLField("URL", max_length=2000, blank=True)
    final_url = models.URLField("取得したURL", max_length=2000, blank=True)
    content_hash = models.CharField(max_length=64, db_index=True)
    state = models.CharField("状態", max_length=16, choices=State.choices, default=State.QUEUED)
    progress = models.PositiveSmallIntegerField("進捗（%）", default=0)
    error = models.CharField("失敗の理由", max_length=500, blank=True)
    # What the parser left out of a document it read (pages without text, empty sheets, linked files it could
    # not read): Japanese sentences shown in the document's row, so staff know what search will not find.
    warnings = models.JSONField("注意", default=list, blank=True)
    # Ingestion runs started for the current request (a new file, 再取り込み): a worker killed mid-way makes
    # the broker deliver the task again, and a document that keeps killing its worker must end 失敗, not loop.
    attempts = models.PositiveSmallIntegerField("取り込みの試行回数", default=0)
    pages = models.PositiveIntegerField("ページ数", null=True, blank=True)
    chunk_count = models.PositiveIntegerField("パッセージ数", default=0)
    embedding_model = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    ingested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "文書"
        verbose_name_plural = "文書"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["collection", "content_hash"], name="rag_document_unique_content"),
        ]

    def __str__(self) -> str:
        return self.title


class Chunk(models.Model):
    """A passage of a document, with where it is (page, slide, sheet and cells, or headings)."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="chunks")
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="+")  # filter without a join
    ordinal = models.PositiveIntegerField()
    text = models.TextField()
    heading_path = models.JSONField(default=list, blank=True)
    page = models.PositiveIntegerField(null=True, blank=True)
    slide = models.PositiveIntegerField(null=True, blank=True)
    sheet = models.CharField(max_length=100, blank=True)
    cells = models.CharField(max_length=50, blank=True)
    # Dimensions depend on the deployment's embedding model (384 for multilingual-e5-small, 1536 for
    # text-embedding-3-small); the HNSW index is an expression index on the configured dimension.
    embedding = VectorField(null=True, blank=True)
    lexical = SearchVectorField(null=True)

    class Meta:
        ordering = ["document_id", "ordinal"]
        indexes = [
            GinIndex(fields=["lexical"], name="rag_chunk_lexical_gin"),
            # The newest passage of a collection in one index probe: part of the signature under which
            # retrieval caches the collection's document frequencies (rag.retrieval).
            models.Index(fields=["collection", "id"], name="rag_chunk_collection_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.document_id}#{self.ordinal}"


class Feedback(models.Model):
    """👍/👎 on an answer, kept per collection used, for the diagnostics screen."""

    message_id = models.BigIntegerField(db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    collection = models.ForeignKey(Collection, null=True, on_delete=models.SET_NULL, related_name="feedback")
    helpful = models.BooleanField()
    comment = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message_id", "user", "collection"], name="rag_feedback_once"),
        ]

    def __str__(self) -> str:
        return f"{self.message_id}: {'👍' if self.helpful else '👎'}"
