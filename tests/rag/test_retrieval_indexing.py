"""Indexing a document: one set of chunks, embeddings and the Sudachi tsvector, replaced as a whole."""

from __future__ import annotations

import pytest
from django.db import connection

from accounts.models import User
from llm.embeddings import embedding_model_name
from rag.chunking import Passage, lexical_tokens
from rag.indexing import EmbeddingIndexMismatch, embedding_index_dimensions, index_document
from rag.models import Chunk, Collection, Document

pytestmark = pytest.mark.django_db


@pytest.fixture
def document(tenant_a):
    connection.set_tenant(tenant_a)
    owner = User.objects.get(staff_number="A002")
    collection = Collection.objects.create(name="手引き", owner=owner)
    return Document.objects.create(collection=collection, title="窓口の手引き", original_name="guide.pdf",
                                   content_hash="guide")


def passages() -> list[Passage]:
    return [
        Passage(text="住民票の写しは市民課の窓口で申し込みます。", heading_path=["窓口の手引き", "住民票"], page=1,
                context="窓口の手引き > 住民票"),
        Passage(text="申込みには本人確認書類が必要です。", heading_path=["窓口の手引き", "住民票"], page=2,
                context="窓口の手引き > 住民票"),
        Passage(text="手数料は1通300円です。", sheet="料金表", cells="A1:B3", index=2),
    ]


def test_chunks_are_written_with_positions_embeddings_and_sudachi_tokens(document):
    progress: list[tuple[int, int]] = []

    written = index_document(document, passages(), on_progress=lambda done, total: progress.append((done, total)))

    assert written == 3 and progress[-1] == (3, 3)
    chunks = list(Chunk.objects.filter(document=document).order_by("ordinal"))
    assert [chunk.ordinal for chunk in chunks] == [0, 1, 2]
    assert chunks[0].text == "住民票の写しは市民課の窓口で申し込みます。" and chunks[0].page == 1
    assert chunks[0].heading_path == ["窓口の手引き", "住民票"] and chunks[0].collection_id == document.collection_id
    assert (chunks[2].sheet, chunks[2].cells, chunks[2].page) == ("料金表", "A1:B3", None)
    assert all(len(chunk.embedding) == 384 for chunk in chunks)
    document.refresh_from_db()
    assert document.chunk_count == 3 and document.embedding_model == embedding_model_name()
    with connection.cursor() as cursor:
        cursor.execute("SELECT array_to_string(tsvector_to_array(lexical), ' ') FROM rag_chunk WHERE id = %s",
                       [chunks[1].pk])
        lexemes = set(cursor.fetchone()[0].split())
    # The headings are searchable too; normalised forms make 申込み and 申し込み one word; particles are gone.
    assert {"住民", "票", "申し込み", "本人", "確認", "書類", "必要"} <= lexemes
    assert "申し込み" in lexical_tokens("申込み") and "は" not in lexemes and "が" not in lexemes


def test_indexing_again_replaces_the_chunks_instead_of_adding_to_them(document):
    index_document(document, passages())
    index_document(document, passages()[:1])

    assert Chunk.objects.filter(document=document).count() == 1
    document.refresh_from_db()
    assert document.chunk_count == 1


def test_a_model_of_another_size_than_the_index_is_refused_with_a_reason(document, settings):
    index_document(document, passages())
    assert embedding_index_dimensions() == 384
    with connection.cursor() as cursor:  # as if the schema had been migrated under a 1536-dimension model
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # DDL after inserts in the same (test) transaction
        cursor.execute("DROP INDEX rag_chunk_embedding_hnsw")
        cursor.execute("CREATE INDEX rag_chunk_embedding_hnsw ON rag_chunk "
                       "USING hnsw ((embedding::vector(1536)) vector_cosine_ops) WHERE false")

    with pytest.raises(EmbeddingIndexMismatch) as caught:
        index_document(document, passages()[:1])
    assert "rag_reembed" in caught.value.user_message
    assert Chunk.objects.filter(document=document).count() == 3  # the previous chunks are still there
