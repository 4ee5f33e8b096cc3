"""The lexical arm's document frequencies are cached per collection, and always those of the current passages."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from rag.chunking import Passage
from rag.indexing import index_document
from rag.models import Collection, Document
from rag.retrieval import document_frequencies, query_terms

pytestmark = pytest.mark.django_db

QUESTION = "粗大ごみの処理券はどこで買えますか"


def _add(collection, key: str, text: str) -> Document:
    document = Document.objects.create(collection=collection, title=key, original_name=f"{key}.txt",
                                       content_hash=key, state=Document.State.READY)
    index_document(document, [Passage(text=text)])
    return document


def _df(allowed: list[int]) -> dict[str, int]:
    with connection.cursor() as cursor:
        return dict(document_frequencies(cursor, query_terms(QUESTION), allowed))


def _counted_in_postgres(queries) -> bool:
    return any("JOIN rag_chunk c ON" in query["sql"] for query in queries)


def test_frequencies_follow_every_change_of_the_passages_and_come_from_the_cache_otherwise(tenant_a):
    connection.set_tenant(tenant_a)
    owner = User.objects.get(staff_number="A002")
    one = Collection.objects.create(name="ごみ", owner=owner, access=Collection.Access.PRIVATE)
    other = Collection.objects.create(name="ごみ（別）", owner=owner, access=Collection.Access.PRIVATE)
    first = _add(one, "a", "粗大ごみは受付センターへ申し込み、処理券を購入して貼ってから出してください。")
    _add(one, "b", "家庭ごみは決められた曜日の朝8時までに出してください。")
    _add(other, "c", "粗大ごみの処理券はコンビニエンスストアで買えます。")

    with CaptureQueriesContext(connection) as cold:
        before = _df([one.pk, other.pk])
    assert _counted_in_postgres(cold.captured_queries)
    assert before["粗大"] == 2 and before["処理"] == 2
    with CaptureQueriesContext(connection) as warm:
        assert _df([one.pk, other.pk]) == before
    assert not _counted_in_postgres(warm.captured_queries)  # the same passages: from the cache
    assert _df([one.pk])["粗大"] == 1  # only the collections the user may read count

    _add(one, "d", "粗大ごみの戸別収集は月2回です。")
    assert _df([one.pk, other.pk])["粗大"] == 3  # a new passage: counted again
    first.delete()
    assert _df([one.pk, other.pk])["粗大"] == 2  # a removed document: counted again
    replaced = Document.objects.get(collection=one, title="b")
    index_document(replaced, [Passage(text="粗大ごみと家庭ごみの出し方の違いを説明します。")])
    assert _df([one.pk, other.pk])["粗大"] == 3  # a re-ingested document with as many passages as before
