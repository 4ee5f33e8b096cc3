"""A worker killed (SIGKILL) while a document is 埋め込み中: the task is delivered again, a new worker ingests the
document, and it ends 利用可能 with exactly one set of chunks; a broken file queued with it fails alone.

Real processes only: two Celery workers, one after the other, on the run's test database and a Redis broker of
this test's own (its visibility timeout is set short for the second worker, and nothing another test run has in
flight on the shared broker can be redelivered by it). The worker sees only committed rows, and every test runs
in a transaction that is rolled back, so the rows are written through a connection of their own and removed
afterwards.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import time
from pathlib import Path

import psycopg
import pytest
from celery import Celery
from django.conf import settings
from django.db import connection

from config import embedded
from rag.chunking import chunk
from rag.parsing import parse
from tests.conftest import BASE_DIR, BIN, server_env

pytestmark = pytest.mark.django_db

TOPICS = ("住民票の写し", "印鑑登録証明書", "戸籍謄本", "所得証明書", "納税証明書", "転入届", "転出届", "児童手当",
          "国民健康保険", "介護保険", "粗大ごみ", "犬の登録")


def _regulations() -> str:
    """About 16 passages of realistic, all different text: long enough to be caught while being embedded."""
    paragraphs = []
    for number in range(1, 41):
        topic = TOPICS[number % len(TOPICS)]
        paragraphs.append(
            f"第{number}条 {topic}に関する手続は、本人又は代理人が市民課の窓口で行うものとする。"
            f"代理人が手続をする場合は、委任状及び代理人の本人確認書類を提示しなければならない。"
            f"手数料は一件につき{number * 10}円とし、郵送による請求の場合は返信用封筒を同封するものとする。"
            f"受付時間は平日の午前8時30分から午後5時15分までとし、第{number}項に定める場合を除く。"
        )
    return "\n\n".join(paragraphs)


@pytest.fixture
def broker(tmp_path, monkeypatch):
    """A Redis of this test's own, started with the embedded launcher in a directory of its own."""
    with monkeypatch.context() as scoped:
        scoped.setenv("AKAGI_DATA_DIR", str(tmp_path / "broker"))
        endpoint = embedded.ensure_redis()
    yield endpoint.url(0)
    with monkeypatch.context() as scoped:
        scoped.setenv("AKAGI_DATA_DIR", str(tmp_path / "broker"))
        embedded.stop_redis()


@pytest.fixture
def committed():
    """A connection outside the test's transaction, for rows the worker must see."""
    db = connection.settings_dict
    with psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"] or None,
                         dbname=db["NAME"], autocommit=True) as conn:
        yield conn


class Worker:
    def __init__(self, name: str, broker_url: str, log: Path, **env: str):
        self.log = log
        environment = server_env() | {"CELERY_BROKER_URL": broker_url, "CELERY_RESULT_BACKEND": broker_url, **env}
        with open(log, "w") as out:
            self.process = subprocess.Popen(
                [str(BIN / "celery"), "-A", "config", "worker", "--pool=solo", "-l", "info", "-n", f"{name}@%h"],
                cwd=BASE_DIR, env=environment, stdout=out, stderr=subprocess.STDOUT,
            )

    def wait_until_ready(self, app: Celery) -> None:
        deadline = time.monotonic() + 90
        while not app.control.ping(timeout=0.5):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"Celery worker did not start:\n{self.tail()}")

    def tail(self) -> str:
        return self.log.read_text()[-3000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _store(committed, schema: str, collection_id: int, name: str, data: bytes, *, old_chunks: int = 0) -> int:
    """A document as services.add_file leaves it (待機中, its file stored), with the chunks of an earlier run."""
    digest = hashlib.sha256(data).hexdigest()
    relative = f"rag/{schema}/{collection_id}/{digest}{Path(name).suffix}"
    path = Path(settings.MEDIA_ROOT) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    document_id = committed.execute(
        f'INSERT INTO "{schema}".rag_document (collection_id, title, source, file, original_name, url, final_url, '  # noqa: S608 - the schema name comes from the Tenant row
        "content_hash, state, progress, error, pages, chunk_count, embedding_model, created_by_id, created_at, "
        "updated_at, ingested_at, warnings, attempts) VALUES (%s, %s, 'file', %s, %s, '', '', %s, 'queued', 0, '', "
        "NULL, %s, '', NULL, now(), now(), NULL, '[]', 0) RETURNING id",
        [collection_id, Path(name).stem, relative, name, digest, old_chunks],
    ).fetchone()[0]
    for ordinal in range(old_chunks):
        committed.execute(
            f'INSERT INTO "{schema}".rag_chunk (document_id, collection_id, ordinal, text, heading_path, sheet, '  # noqa: S608
            "cells) VALUES (%s, %s, %s, %s, '[]', '', '')",
            [document_id, collection_id, ordinal, f"前回の取り込みで作られた古いパッセージ {ordinal}"],
        )
    return document_id


def _state(committed, schema: str, document_id: int) -> tuple:
    return committed.execute(
        f'SELECT state, progress, attempts, chunk_count, error FROM "{schema}".rag_document WHERE id = %s',  # noqa: S608
        [document_id],
    ).fetchone()


def _chunks(committed, schema: str, document_id: int) -> list[tuple]:
    return committed.execute(
        f'SELECT id, ordinal, text, embedding IS NOT NULL, lexical IS NOT NULL FROM "{schema}".rag_chunk '  # noqa: S608
        "WHERE document_id = %s ORDER BY ordinal, id",
        [document_id],
    ).fetchall()


def test_a_document_whose_worker_was_killed_is_ingested_again_with_one_set_of_chunks(
        tenant_a, broker, committed, tmp_path):
    schema = tenant_a.schema_name
    data = _regulations().encode()
    expected = [passage.text for passage in chunk(parse("窓口手続規程.txt", data))]  # a fresh ingestion's passages
    assert len(expected) >= 10
    app = Celery("kill-test", broker=broker, backend=broker)
    app.conf.update(task_serializer="json", accept_content=["json"], result_serializer="json")

    collection_id = committed.execute(
        f'INSERT INTO "{schema}".rag_collection (name, description, owner_id, access, created_at, updated_at) '  # noqa: S608
        "VALUES ('再配送テスト', '', NULL, 'private', now(), now()) RETURNING id"
    ).fetchone()[0]
    workers: list[Worker] = []
    try:
        # 再取り込み of a document that already has passages, and a broken file queued behind it.
        document_id = _store(committed, schema, collection_id, "窓口手続規程.txt", data, old_chunks=3)
        broken_id = _store(committed, schema, collection_id, "壊れた.docx", "Wordファイルではありません".encode())
        content_hash = hashlib.sha256(data).hexdigest()

        first = Worker("killed", broker, tmp_path / "first.log")
        workers.append(first)
        first.wait_until_ready(app)
        result = app.send_task("rag.tasks.ingest_document", args=[document_id, content_hash],
                               headers={"_schema_name": schema})
        broken = app.send_task("rag.tasks.ingest_document",
                               args=[broken_id, hashlib.sha256("Wordファイルではありません".encode()).hexdigest()],
                               headers={"_schema_name": schema})

        deadline = time.monotonic() + 180
        while _state(committed, schema, document_id)[0] != "embedding":
            assert time.monotonic() < deadline, f"never reached 埋め込み中:\n{first.tail()}"
            assert first.process.poll() is None, first.tail()
            time.sleep(0.05)
        os.kill(first.process.pid, signal.SIGKILL)
        first.process.wait(timeout=10)

        state, _, attempts, chunk_count, _ = _state(committed, schema, document_id)
        assert (state, attempts, chunk_count) == ("embedding", 1, 3)  # stopped mid-way...
        assert [text for _, _, text, _, _ in _chunks(committed, schema, document_id)] == [
            f"前回の取り込みで作られた古いパッセージ {n}" for n in range(3)]  # ...leaving the previous set whole
        assert _state(committed, schema, broken_id)[0] == "queued"

        # The message was never acknowledged: a new worker with a 1-second visibility timeout takes it back.
        second = Worker("restarted", broker, tmp_path / "second.log", AKAGI_CELERY_VISIBILITY_TIMEOUT="1")
        workers.append(second)
        time.sleep(1.5)
        second.wait_until_ready(app)
        result.get(timeout=300)
        broken.get(timeout=60)

        state, progress, attempts, chunk_count, error = _state(committed, schema, document_id)
        assert (state, progress, attempts, error) == ("ready", 100, 2, ""), second.tail()
        rows = _chunks(committed, schema, document_id)
        assert [text for _, _, text, _, _ in rows] == expected  # exactly one set, the same as a fresh ingestion
        assert [ordinal for _, ordinal, _, _, _ in rows] == list(range(len(expected))) and chunk_count == len(rows)
        assert all(has_vector and has_tokens for _, _, _, has_vector, has_tokens in rows)

        state, _, _, _, error = _state(committed, schema, broken_id)
        assert state == "failed" and "Word（.docx） ファイルではありません" in error  # the broken file failed alone
        assert second.process.poll() is None  # and the worker is still there

        # The same message delivered once more (a duplicate from the broker) changes nothing.
        again = app.send_task("rag.tasks.ingest_document", args=[document_id, content_hash],
                              headers={"_schema_name": schema})
        again.get(timeout=60)
        assert _chunks(committed, schema, document_id) == rows
        assert _state(committed, schema, document_id)[:3] == ("ready", 100, 2)
    finally:
        for worker in workers:
            worker.stop()
        app.close()
        for path in committed.execute(
            f'SELECT file FROM "{schema}".rag_document WHERE collection_id = %s', [collection_id]  # noqa: S608
        ).fetchall():
            (Path(settings.MEDIA_ROOT) / path[0]).unlink(missing_ok=True)
        committed.execute(f'DELETE FROM "{schema}".rag_chunk WHERE collection_id = %s', [collection_id])  # noqa: S608
        committed.execute(f'DELETE FROM "{schema}".rag_document WHERE collection_id = %s', [collection_id])  # noqa: S608
        committed.execute(f'DELETE FROM "{schema}".rag_collection WHERE id = %s', [collection_id])  # noqa: S608
