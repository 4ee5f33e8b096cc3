"""The broker may deliver an ingestion task twice, late, or never: each document still ends with one set of chunks.

(The worker really killed mid-ingestion is in test_a_killed_worker_leaves_one_set_of_chunks.py.)
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from audit.models import AuditEvent
from rag import ingest, services
from rag.chunking import Passage
from rag.indexing import DocumentSuperseded, index_document
from rag.models import Collection, Document

pytestmark = pytest.mark.django_db

RULES = "\n\n".join(f"第{n}条 住民票の写しは市民課の窓口で交付します。手数料は一通{n}百円です。" for n in range(1, 9))
OTHER = "図書館の開館時間は午前9時から午後7時までです。休館日は毎週月曜日です。"


@pytest.fixture
def collection(tenant_a):
    from accounts.models import User

    connection.set_tenant(tenant_a)
    owner = User.objects.get(staff_number="A002")
    return Collection.objects.create(name="冪等性", owner=owner, access=Collection.Access.PRIVATE)


def _add(collection, text: str, name: str = "rules.txt", replace=None) -> Document:
    document, created = services.add_file(actor=collection.owner, collection=collection, filename=name,
                                          data=text.encode(), replace=replace)
    assert created
    return document


def _chunks(document: Document) -> list[tuple[int, int, str]]:
    return list(document.chunks.order_by("ordinal").values_list("pk", "ordinal", "text"))


def test_a_task_delivered_again_for_a_ready_document_does_nothing(collection):
    document = _add(collection, RULES)
    ingest.run(document.pk, content_hash=document.content_hash)
    document.refresh_from_db()
    assert document.state == Document.State.READY and document.attempts == 1
    before, ingested_at = _chunks(document), document.ingested_at

    ingest.run(document.pk, content_hash=document.content_hash)  # the same message, redelivered

    document.refresh_from_db()
    assert _chunks(document) == before  # the very same rows: nothing was deleted and written again
    assert (document.ingested_at, document.attempts) == (ingested_at, 1)


def test_ingesting_a_document_again_replaces_its_chunks_with_exactly_one_set(collection):
    document = _add(collection, RULES)
    ingest.run(document.pk)
    first = _chunks(document)
    ingest.run(document.pk)  # e.g. two deliveries that both ran
    again = _chunks(document)
    assert [(ordinal, text) for _, ordinal, text in again] == [(ordinal, text) for _, ordinal, text in first]
    assert [ordinal for _, ordinal, _ in again] == list(range(len(first)))
    assert Document.objects.get(pk=document.pk).chunk_count == len(first)


def test_a_task_for_content_that_was_replaced_leaves_the_replacement_alone(collection):
    document = _add(collection, RULES)
    old_hash = document.content_hash
    replaced = _add(collection, OTHER, name="library.txt", replace=document)
    assert replaced.pk == document.pk and replaced.content_hash != old_hash

    ingest.run(document.pk, content_hash=old_hash)  # the first upload's task, arriving late

    replaced.refresh_from_db()
    assert replaced.state == Document.State.QUEUED and replaced.attempts == 0 and not replaced.chunks.exists()
    ingest.run(document.pk, content_hash=replaced.content_hash)
    replaced.refresh_from_db()
    assert replaced.state == Document.State.READY
    assert "図書館" in " ".join(replaced.chunks.values_list("text", flat=True))


def test_passages_prepared_for_replaced_content_are_not_written(collection):
    document = _add(collection, OTHER)
    ingest.run(document.pk)
    before = _chunks(document)
    stale_hash = hashlib.sha256(b"what the document held when the run began").hexdigest()
    with pytest.raises(DocumentSuperseded):
        index_document(document, [Passage(text="古い内容の文章です。")], content_hash=stale_hash,
                       document_fields={"state": Document.State.READY})
    assert _chunks(document) == before


def test_a_run_interrupted_before_is_counted_and_ends_ready(collection):
    document = _add(collection, RULES)
    # What a worker killed in 埋め込み中 leaves behind: the state it reached and one attempt.
    Document.objects.filter(pk=document.pk).update(state=Document.State.EMBEDDING, progress=40, attempts=1)
    ingest.run(document.pk, content_hash=document.content_hash)
    document.refresh_from_db()
    assert (document.state, document.attempts, document.progress) == (Document.State.READY, 2, 100)


def test_a_document_that_stopped_its_worker_three_times_fails_with_a_reason(collection):
    document = _add(collection, RULES)
    Document.objects.filter(pk=document.pk).update(state=Document.State.PARSING, attempts=ingest.MAX_ATTEMPTS)
    ingest.run(document.pk, content_hash=document.content_hash)
    document.refresh_from_db()
    assert document.state == Document.State.FAILED and not document.chunks.exists()
    assert "3 回とも途中で止まりました" in document.error and "ファイルを分けて" in document.error

    services.reingest(actor=collection.owner, document=document)  # staff try again: a fresh count
    ingest.run(document.pk, content_hash=document.content_hash)
    document.refresh_from_db()
    assert (document.state, document.attempts) == (Document.State.READY, 1)


def test_documents_whose_task_was_lost_are_queued_again(collection, django_capture_on_commit_callbacks):
    stuck = _add(collection, RULES, name="stuck.txt")
    working = _add(collection, OTHER, name="working.txt")
    finished = _add(collection, RULES + "\n\n附則", name="finished.txt")
    long_ago = timezone.now() - services.stale_after() - timedelta(minutes=1)
    Document.objects.filter(pk=stuck.pk).update(state=Document.State.PARSING, progress=5, attempts=1,
                                                updated_at=long_ago)
    Document.objects.filter(pk=working.pk).update(state=Document.State.EMBEDDING, progress=60, attempts=1)
    Document.objects.filter(pk=finished.pk).update(state=Document.State.READY, updated_at=long_ago)

    with django_capture_on_commit_callbacks() as queued:
        assert services.requeue_stale_documents() == [stuck.pk]
    assert len(queued) == 1
    stuck.refresh_from_db()
    assert (stuck.state, stuck.progress, stuck.attempts) == (Document.State.QUEUED, 0, 1)
    assert Document.objects.get(pk=working.pk).state == Document.State.EMBEDDING
    assert AuditEvent.objects.filter(action="rag.document.requeue", target=f"document:{stuck.pk}").exists()

    ingest.run(stuck.pk, content_hash=stuck.content_hash)  # what the queued task does
    stuck.refresh_from_db()
    assert (stuck.state, stuck.attempts) == (Document.State.READY, 2)


def test_a_document_is_stale_only_after_the_broker_would_have_redelivered_its_task(settings):
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
    assert services.stale_after() == timedelta(minutes=75)
    settings.AKAGI_RAG_STALE_AFTER_SECONDS = 600
    assert services.stale_after() == timedelta(minutes=10)

