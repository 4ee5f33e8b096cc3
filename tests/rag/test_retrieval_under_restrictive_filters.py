"""When a user may read only a sliver of the passages, the HNSW scan keeps going until it has found enough."""

from __future__ import annotations

import math
import random

import pytest
from django.db import connection, transaction

from accounts.models import User
from rag import retrieval
from rag.models import Chunk, Collection, Document

pytestmark = pytest.mark.django_db

DIMENSIONS = 384
K = 5


def unit(vector: list[float]) -> list[float]:
    norm = math.sqrt(sum(value * value for value in vector))
    return [value / norm for value in vector]


def near(center: list[float], spread: float, rng: random.Random) -> list[float]:
    return unit([value + rng.gauss(0, spread) for value in center])


@pytest.fixture
def crowded(tenant_a):
    """400 passages right around the question in someone else's private collection, 8 farther away that
    the user may read. A plain HNSW scan with a small candidate list only sees the private ones."""
    connection.set_tenant(tenant_a)
    rng = random.Random(20261125)
    question = unit([rng.gauss(0, 1) for _ in range(DIMENSIONS)])
    admin, sato = User.objects.get(staff_number="A001"), User.objects.get(staff_number="A002")
    hidden = Collection.objects.create(name="非公開", owner=admin, access=Collection.Access.PRIVATE)
    visible = Collection.objects.create(name="全庁", owner=admin, access=Collection.Access.ALL)
    for collection, count, spread in ((hidden, 400, 0.02), (visible, 8, 0.08)):
        document = Document.objects.create(collection=collection, title=collection.name, content_hash=collection.name,
                                           original_name=f"{collection.name}.txt", chunk_count=count)
        Chunk.objects.bulk_create(
            Chunk(document=document, collection=collection, ordinal=i, text=f"{collection.name} {i}",
                  embedding=near(question, spread, rng))
            for i in range(count)
        )
    return {"question": question, "user": sato, "visible": visible, "hidden": hidden}


def force_hnsw(cursor) -> None:
    # A few hundred rows: left alone, the planner would (rightly) scan them all. Make it take the index.
    cursor.execute("SET LOCAL enable_seqscan = off")
    cursor.execute("SET LOCAL enable_sort = off")


def test_iterative_scan_finds_k_readable_passages_past_hundreds_of_unreadable_neighbours(crowded):
    question, visible = crowded["question"], crowded["visible"]
    literal = retrieval.vector_literal(question)
    with transaction.atomic(), connection.cursor() as cursor:
        force_hnsw(cursor)
        cursor.execute("EXPLAIN " + retrieval.vector_sql(DIMENSIONS), [literal, [visible.pk], K])
        plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "rag_chunk_embedding_hnsw" in plan, plan
        # Without iterative scans: 10 candidates, all unreadable, filtered away afterwards.
        cursor.execute("SET LOCAL hnsw.iterative_scan = off")
        cursor.execute("SET LOCAL hnsw.ef_search = 10")
        cursor.execute(retrieval.vector_sql(DIMENSIONS), [literal, [visible.pk], K])
        assert len(cursor.fetchall()) < K

    with transaction.atomic(), connection.cursor() as cursor:
        force_hnsw(cursor)
        params = retrieval.with_params(candidates=K, ef_search=10)
        hits = retrieval.search(crowded["user"], "zzzz", k=K, params=params, query_vector=question)

    assert len(hits) == K
    assert {hit.collection_id for hit in hits} == {visible.pk}
    assert [hit.vector_score for hit in hits] == sorted((hit.vector_score for hit in hits), reverse=True)


def test_the_owner_of_the_crowded_collection_gets_its_nearest_passages(crowded):
    owner = User.objects.get(staff_number="A001")
    with transaction.atomic(), connection.cursor() as cursor:
        force_hnsw(cursor)
        hits = retrieval.search(owner, "zzzz", k=K, query_vector=crowded["question"])
    assert {hit.collection_id for hit in hits} == {crowded["hidden"].pk}
