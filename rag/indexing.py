"""Writing a document's passages into the search indexes: chunks, embeddings and the lexical tsvector.

``index_document`` embeds first and writes after, in one transaction that holds the document's row lock and
replaces its chunks, so a failure or a killed worker leaves the previous chunks in place, a retry (or two
deliveries of the same task) ends with exactly one set, and the ingestion marks the document 利用可能 in that
same transaction (``document_fields``): chunks and state never disagree.

The lexical index stores SudachiPy tokens (``rag.chunking.lexical_tokens``: mode A normalized forms, particles
and symbols dropped) as ``to_tsvector('simple', '<tokens joined by spaces>')``. The ``simple`` configuration
only lower-cases and splits on spaces and punctuation, so Japanese is neither stemmed nor stop-worded by
PostgreSQL; ``rag.retrieval`` turns questions into tokens with the same function.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Protocol

from django.db import connection, transaction

from llm.embeddings import embed_passages, embedding_config, embedding_dimensions, embedding_model_name
from rag.chunking import lexical_tokens
from rag.models import Chunk, Document

ProgressCallback = Callable[[int, int], None]  # (passages embedded so far, total)

EMBEDDING_INDEX = "rag_chunk_embedding_hnsw"
_INDEX_DIMENSIONS = re.compile(r"::vector\((\d+)\)")

_WRITE_BATCH = 500  # rows per INSERT/UPDATE: bounded statements for documents with thousands of passages
_SHEET_MAX = Chunk._meta.get_field("sheet").max_length
_CELLS_MAX = Chunk._meta.get_field("cells").max_length


class EmbeddingIndexMismatch(Exception):
    """The municipality's vector index was built for another embedding size than the deployment's model."""

    user_message = (
        "検索用の索引と埋め込みモデルの設定が一致しないため、取り込めません。"
        "システム管理者に rag_reembed の実行を依頼してください。"
    )

    def __init__(self, detail: str):
        super().__init__(detail)


class PassageLike(Protocol):
    """What ``index_document`` reads from a passage (``rag.chunking.Passage``)."""

    text: str
    heading_path: list[str]
    page: int | None
    slide: int | None
    sheet: str | None
    cells: str | None

    @property
    def search_text(self) -> str: ...


def search_text(passage: PassageLike) -> str:
    """What is embedded and tokenised: the passage with its title and headings (they may not repeat them)."""
    return getattr(passage, "search_text", None) or passage.text


def lexical_document(text: str) -> str:
    """The text given to ``to_tsvector('simple', ...)`` for ``text``."""
    return " ".join(lexical_tokens(text))


class DocumentSuperseded(Exception):
    """The document's content changed (a replacement file was uploaded) or the document was deleted while these
    passages were being prepared: they are not written; the replacement's own ingestion writes its own."""


def index_document(
    document: Document,
    passages: Sequence[PassageLike],
    *,
    on_progress: ProgressCallback | None = None,
    content_hash: str | None = None,
    document_fields: dict | None = None,
) -> int:
    """Replace ``document``'s chunks with ``passages``; return how many were written.

    Embeds in batches (``on_progress(done, total)`` after each), then, in one transaction holding the
    document's row lock, deletes the old chunks, inserts the new ones and fills their tsvector. Sets the
    document's ``chunk_count`` and ``embedding_model``, and ``document_fields`` (the ingestion's 利用可能) in
    that transaction; the progress callback runs outside it, so other processes see it. With ``content_hash``,
    raises ``DocumentSuperseded`` and writes nothing when the document no longer has that content.
    """
    passages = list(passages)
    texts = [search_text(passage) for passage in passages]
    model = embedding_model_name()
    vectors = embed_compactly(texts, on_progress)
    lexical = [lexical_document(text) for text in texts]
    indexed = embedding_index_dimensions()
    if vectors and indexed is not None and indexed != len(vectors[0]):
        # Such chunks would be left out of the index and never found by meaning: refuse, and say what to do.
        raise EmbeddingIndexMismatch(f"index is vector({indexed}), {model} gives {len(vectors[0])} dimensions")
    with transaction.atomic():
        # Two workers indexing the same document one after the other must not leave two sets of chunks.
        locked = Document.objects.select_for_update().only("pk", "collection_id", "content_hash").filter(
            pk=document.pk).first()
        if locked is None or (content_hash is not None and locked.content_hash != content_hash):
            raise DocumentSuperseded(f"document {document.pk} was replaced or deleted during its ingestion")
        Chunk.objects.filter(document_id=locked.pk).delete()
        chunks = Chunk.objects.bulk_create(
            (
                Chunk(
                    document_id=locked.pk,
                    collection_id=locked.collection_id,
                    ordinal=ordinal,
                    text=passage.text,
                    heading_path=list(passage.heading_path or []),
                    page=passage.page,
                    slide=passage.slide,
                    sheet=(passage.sheet or "")[:_SHEET_MAX],
                    cells=(passage.cells or "")[:_CELLS_MAX],
                    embedding=vector,
                )
                for ordinal, (passage, vector) in enumerate(zip(passages, vectors, strict=True))
            ),
            batch_size=_WRITE_BATCH,
        )
        with connection.cursor() as cursor:
            for start in range(0, len(chunks), _WRITE_BATCH):
                cursor.execute(
                    "UPDATE rag_chunk AS c SET lexical = to_tsvector('simple', v.tokens) "
                    "FROM unnest(%s::bigint[], %s::text[]) AS v(id, tokens) WHERE c.id = v.id",
                    [[chunk.pk for chunk in chunks[start : start + _WRITE_BATCH]],
                     lexical[start : start + _WRITE_BATCH]],
                )
        Document.objects.filter(pk=locked.pk).update(chunk_count=len(chunks), embedding_model=model,
                                                     **(document_fields or {}))
    document.chunk_count = len(chunks)
    document.embedding_model = model
    return len(chunks)


def embed_compactly(texts: list[str], on_progress: ProgressCallback | None = None) -> list:
    """Passage vectors as float32 arrays, batch by batch: a large document's 10,000 passages of 1,536
    dimensions take 60 MB so, against about 500 MB as lists of Python floats."""
    import numpy

    vectors: list = []
    batch_size = embedding_config().batch_size
    for start in range(0, len(texts), batch_size):
        batch = embed_passages(texts[start : start + batch_size])
        vectors.extend(numpy.asarray(vector, dtype=numpy.float32) for vector in batch)
        if on_progress is not None:
            on_progress(len(vectors), len(texts))
    if on_progress is not None and not texts:
        on_progress(0, 0)
    return vectors


def reembed_document(document: Document, *, on_progress: ProgressCallback | None = None) -> int:
    """Re-embed ``document``'s chunks with the current model; texts, positions and the tsvector stay."""
    chunks = list(Chunk.objects.filter(document_id=document.pk).order_by("ordinal").only("pk", "text", "heading_path"))
    title = Document.objects.filter(pk=document.pk).values_list("title", flat=True).first() or ""
    texts = [stored_search_text(title, chunk.heading_path or [], chunk.text) for chunk in chunks]
    vectors = embed_compactly(texts, on_progress)
    model = embedding_model_name()
    with transaction.atomic():
        Document.objects.select_for_update().only("pk").get(pk=document.pk)
        for chunk, vector in zip(chunks, vectors, strict=True):
            chunk.embedding = vector
        Chunk.objects.bulk_update(chunks, ["embedding"], batch_size=_WRITE_BATCH)
        Document.objects.filter(pk=document.pk).update(embedding_model=model)
    document.embedding_model = model
    return len(chunks)


def stored_search_text(title: str, heading_path: list[str], text: str) -> str:
    """``Passage.search_text`` rebuilt from a stored chunk: "title > headings" then the text, as chunking does."""
    parts = list(heading_path)
    if title and (not parts or parts[0] != title):
        parts.insert(0, title)
    context = " > ".join(parts)
    return f"{context}\n{text}" if context else text


# --------------------------------------------------------------------------- the HNSW index


def embedding_index_dimensions(conn=None) -> int | None:
    """The size the current schema's HNSW index is built for, or None without one."""
    conn = conn or connection
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND indexname = %s",
            [EMBEDDING_INDEX],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    match = _INDEX_DIMENSIONS.search(row[0])
    return int(match.group(1)) if match else None


def embedding_expression(dimensions: int, column: str = "embedding") -> str:
    """The indexed expression: the embedding as ``vector(N)``, NULL when it has another size.

    pgvector indexes vectors of one size only, and ``Chunk.embedding`` has none fixed. A bare cast would fail
    on any row of another size, including old row versions that a concurrent snapshot still sees while
    ``rag_reembed`` rebuilds the index; NULL is simply not indexed. Queries must order by this same
    expression to use the index (``rag.retrieval.vector_sql``).
    """
    dims = int(dimensions)
    # The outer cast gives the CASE a declared size, which an HNSW index requires of its column or expression.
    return f"((CASE WHEN vector_dims({column}) = {dims} THEN {column}::vector({dims}) END)::vector({dims}))"


def create_embedding_index(conn=None, dimensions: int | None = None) -> None:
    """The HNSW (cosine) index on ``embedding_expression(N)`` in the current schema, if there is none yet.

    Chunks of another size are left out of it (``index_document`` refuses to write them, ``rag_reembed`` moves
    them): drop the index and create it again for another size.
    """
    dimensions = int(dimensions or embedding_dimensions())
    conn = conn or connection
    with conn.cursor() as cursor:
        # Inside a transaction that wrote chunks, their deferred foreign-key checks must run before DDL.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {EMBEDDING_INDEX} ON rag_chunk "
            f"USING hnsw ({embedding_expression(dimensions)} vector_cosine_ops)"
        )


def drop_embedding_index(conn=None) -> None:
    conn = conn or connection
    with conn.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"DROP INDEX IF EXISTS {EMBEDDING_INDEX}")
