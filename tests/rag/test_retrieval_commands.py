"""rag_ingest_dir, rag_search and rag_reembed: the evaluation and maintenance commands use the product's code."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.models import User
from llm.embeddings import embedding_model_name
from rag.indexing import embedding_index_dimensions
from rag.models import Chunk, Collection, Document
from rag.retrieval import search
from tests.rag.test_embeddings_from_azure_and_compatible_servers import embedding_server  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db

SCORER = Path(__file__).resolve().parents[3] / "shared" / "tools" / "score_retrieval.py"
FILES = {
    "v00000.txt": "ごみの出し方\n\n燃えるごみは毎週月曜日と木曜日の朝8時30分までに集積所へ出してください。",
    "v00001.txt": "図書館\n\n市立図書館の開館時間は午前9時から午後7時までです。毎週月曜日は休館日です。",
    "v00002.html": "<html><head><title>転入届</title></head><body><main><h1>転入届</h1>"
                   "<p>引っ越してきた日から14日以内に市民課で転入届を出してください。</p></main></body></html>",
}
QUESTIONS = [
    {"id": "q1", "question": "燃えるごみは何曜日に出しますか", "gold": "v00000"},
    {"id": "q2", "question": "図書館の休館日はいつ？", "gold": "v00001"},
    {"id": "q3", "question": "転入届はいつまでに出す？", "gold": "v00002"},
]


@pytest.fixture
def ingested(tmp_path, tenant_a):
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in FILES.items():
        (docs / name).write_text(text, encoding="utf-8")
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    out, err = io.StringIO(), io.StringIO()
    call_command("rag_ingest_dir", str(docs), "--tenant", "demo-a", "--collection", "評価用", stdout=out, stderr=err)
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    connection.set_tenant(tenant_a)
    return {"dir": docs, "summary": summary, "log": err.getvalue(), "tmp": tmp_path}


def test_rag_ingest_dir_ingests_every_file_and_a_broken_one_fails_alone(ingested):
    summary = ingested["summary"]
    assert (summary["files"], summary["ready"], summary["failed"]) == (4, 3, 1)
    collection = Collection.objects.get(name="評価用")
    assert collection.access == Collection.Access.ALL and collection.owner.staff_number == "A001"
    ready = Document.objects.filter(collection=collection, state=Document.State.READY)
    assert sorted(ready.values_list("original_name", flat=True)) == sorted(FILES)
    assert all(document.chunk_count >= 1 and document.embedding_model == embedding_model_name() for document in ready)
    failed = Document.objects.get(collection=collection, state=Document.State.FAILED)
    assert failed.original_name == "broken.pdf" and failed.error and "broken.pdf\t失敗" in ingested["log"]

    again = io.StringIO()
    call_command("rag_ingest_dir", str(ingested["dir"]), "--tenant", "demo-a", "--collection", "評価用",
                 "--quiet", stdout=again)
    summary = json.loads(again.getvalue().strip().splitlines()[-1])
    assert (summary["skipped"], summary["ready"]) == (3, 0)  # a restart does not embed twice
    assert Chunk.objects.filter(collection=collection).count() == sum(ready.values_list("chunk_count", flat=True))


def test_rag_search_writes_what_score_retrieval_reads(ingested):
    questions = ingested["tmp"] / "queries.jsonl"
    questions.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in QUESTIONS), encoding="utf-8")
    out = io.StringIO()

    call_command("rag_search", "--tenant", "demo-a", "--user", "A002", "--k", "2", "--input", str(questions),
                 stdout=out, stderr=io.StringIO())

    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["id"] for line in lines] == ["q1", "q2", "q3"]
    for line in lines:
        assert 1 <= len(line["hits"]) <= 2
        for hit in line["hits"]:
            assert {"source", "score", "chunk_id", "position", "document_id", "title"} <= set(hit)
            assert hit["source"] in FILES and isinstance(hit["position"], dict)
    assert [line["hits"][0]["source"] for line in lines] == ["v00000.txt", "v00001.txt", "v00002.html"]

    results = ingested["tmp"] / "results.jsonl"
    results.write_text(out.getvalue(), encoding="utf-8")
    if not SCORER.exists():
        pytest.skip(f"{SCORER} is not here")
    scored = subprocess.run([sys.executable, str(SCORER), str(questions), str(results)], capture_output=True,
                            text=True, check=True).stdout
    assert "recall@1=1.000" in scored and "mrr@10=1.000" in scored


def test_rag_search_searches_as_the_given_user_with_their_access(ingested):
    collection = Collection.objects.get(name="評価用")
    collection.access = Collection.Access.PRIVATE
    collection.save(update_fields=["access"])
    questions = ingested["tmp"] / "q.jsonl"
    questions.write_text(json.dumps(QUESTIONS[0], ensure_ascii=False) + "\n", encoding="utf-8")

    out = io.StringIO()
    call_command("rag_search", "--tenant", "demo-a", "--user", "A002", "--input", str(questions), stdout=out,
                 stderr=io.StringIO())
    assert json.loads(out.getvalue())["hits"] == []
    with pytest.raises(CommandError):
        call_command("rag_search", "--tenant", "demo-a", "--user", "A002", "--collection", "評価用",
                     "--input", str(questions), stdout=io.StringIO(), stderr=io.StringIO())
    out = io.StringIO()
    call_command("rag_search", "--tenant", "demo-a", "--collection", "評価用", "--input", str(questions),
                 stdout=out, stderr=io.StringIO())  # default user: the administrator, who owns it
    assert json.loads(out.getvalue())["hits"][0]["source"] == "v00000.txt"


def test_rag_reembed_is_idempotent_and_moves_a_municipality_to_a_model_of_another_size(
    ingested, settings, embedding_server  # noqa: F811 - fixture
):
    out = io.StringIO()
    call_command("rag_reembed", "--tenant", "demo-a", stdout=out)
    assert "埋め込み直す文書: 0 件" in out.getvalue()  # already on the current model
    assert embedding_index_dimensions() == 384

    settings.OPENAI_COMPAT_EMBEDDING_BASE_URL = embedding_server.base_url
    settings.OPENAI_COMPAT_EMBEDDING_MODEL = "stub-embedding"
    settings.OPENAI_COMPAT_EMBEDDING_DIMENSIONS = 16
    sato = User.objects.get(staff_number="A002")
    # Before moving: the question's vector has 16 dimensions, the passages 384; the words still find them.
    assert search(sato, QUESTIONS[0]["question"], k=1)[0].source == "v00000.txt"

    out = io.StringIO()
    call_command("rag_reembed", "--tenant", "demo-a", stdout=out)

    assert "埋め込み直す文書: 3 件" in out.getvalue() and "16 次元" in out.getvalue()
    assert embedding_index_dimensions() == 16
    assert set(Document.objects.filter(state=Document.State.READY).values_list("embedding_model", flat=True)) == {
        "openai-compatible:stub-embedding:16"
    }
    assert {len(chunk.embedding) for chunk in Chunk.objects.exclude(embedding=None)} == {16}
    hits = search(sato, QUESTIONS[0]["question"], k=3)
    assert hits and all(hit.vector_score is not None for hit in hits)

    out = io.StringIO()
    call_command("rag_reembed", "--tenant", "demo-a", stdout=out)
    assert "埋め込み直す文書: 0 件" in out.getvalue()
