"""Knowledge (RAG) throughput and latency: ingestion per format, retrieval at 10k and 100k passages; prints one JSON.

    .venv/bin/python bench/rag.py [--quick] [--docs 4] [--pages 4] [--queries 100] [--scales 10000,100000]
                                  [--keep-running]

Everything runs against the bench's own embedded PostgreSQL and Redis under ``.data/bench-rag`` (started on first
use, stopped at the end unless ``--keep-running``), in a scratch municipality ``benchrag`` whose knowledge bases
are emptied at the start of each run; ``DATABASE_URL`` and the like are ignored, so no one's data is touched.
The embedding model is the embedded one (multilingual-e5-small, 4-bit, on the CPU), whatever the shell says.

1. Ingestion, per format (.docx .xlsx .pptx .pdf .html .txt): ``--docs`` generated documents of ``--pages``
   pages (slides, sheets) of real Japanese sentences (JSQuAD paragraphs from ../shared/data when present, else
   generated municipal text), stored with ``rag.services.add_file`` and ingested one after the other with
   ``rag.ingest.run``: the Celery task's code in this one process, i.e. one worker (``--pool=solo``) on this
   machine's CPUs. Reported: documents, pages and passages per second, and the share spent parsing and chunking
   (measured apart, on the same files); the rest is embedding and indexing. The model is loaded before timing.
2. Retrieval: synthetic passages inserted in bulk (COPY) up to each scale, spread over 20 collections. Their
   texts are 4 real sentences each (the lexical index gets the same SudachiPy tokens as ingestion writes); their
   vectors are real e5 embeddings of 256 sentences mixed three at a time plus a little noise, so they lie where
   real passages lie. Questions (JSQuAD questions, or generated) go through ``rag.retrieval.search`` as
   ``manage.py rag_search --collection ...`` sends them (k=10, default parameters), as two users: one who may
   read all 20 collections ("without access filter": the filter admits everything) and one who may read 2 of
   them ("with access filter": 10% of the passages pass it). Each question is embedded once (timed apart);
   reported p50/p95 of the search itself, of embedding + search, and of each arm's statement alone.
   The sentence pool is small (about 3,300 JSQuAD sentences, each in about 120 passages at 100k), so terms are
   more frequent than in a real corpus of that size: the lexical arm's figures lean to the slow side.

The machine's load average is reported at the start and the end: other processes on a shared machine slow the
embedding (the bulk of ingestion) most.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import sys
import time
from typing import Any

from support import EMBEDDING_PROVIDER_VARIABLES, ROOT, logger, percentile, prepare_environment, stop_embedded

DATA_DIR = ROOT / ".data" / "bench-rag"
JSQUAD = ROOT.parent / "shared" / "data" / "jsquad-valid-v1.3.json"
TENANT = "benchrag"
ADMIN = "RB001"
NARROW = "RB002"
FORMATS = ("docx", "xlsx", "pptx", "pdf", "html", "txt")
COLLECTIONS = 20
READABLE_BY_NARROW = 2
CHUNKS_PER_DOCUMENT = 100
ANCHORS = 256
CHARS_PER_PAGE = 800
log = logger("rag", clock=True)


# --------------------------------------------------------------------------- text


def text_source(limit_questions: int) -> tuple[list[str], list[str], str]:
    """Sentences and questions: JSQuAD's when the shared data is there, generated municipal ones otherwise."""
    if JSQUAD.exists():
        sentences: list[str] = []
        questions: list[str] = []
        for article in json.loads(JSQUAD.read_text(encoding="utf-8"))["data"]:
            for paragraph in article["paragraphs"]:
                body = paragraph["context"].partition(" [SEP] ")[2]
                sentences.extend(part.strip() + "。" for part in body.split("。") if len(part.strip()) >= 15)
                questions.extend(qa["question"] for qa in paragraph["qas"][:1])
        random.Random(7).shuffle(questions)  # noqa: S311 - a fixed sample, not a secret
        return sentences, questions[:limit_questions], "JSQuAD v1.3 (../shared/data)"
    rng = random.Random(7)  # noqa: S311 - generated text, not a secret
    topics = ["住民票の写し", "印鑑登録", "戸籍謄本", "児童手当", "国民健康保険", "介護保険", "粗大ごみ", "犬の登録",
              "市民税", "固定資産税", "保育所", "図書館", "道路補修", "避難所", "予防接種", "水道料金"]
    places = ["市民課", "税務課", "福祉課", "環境課", "建設課", "教育委員会", "各支所", "保健センター"]
    verbs = ["申請を受け付けます", "手続きを行います", "相談に応じます", "証明書を交付します", "届出が必要です"]
    sentences = [f"{rng.choice(topics)}については、{rng.choice(places)}の窓口で{rng.choice(verbs)}。"
                 f"受付は平日の午前8時30分から午後5時15分まで、手数料は{rng.randint(1, 30) * 50}円です。"
                 for _ in range(6000)]
    questions = [f"{rng.choice(topics)}の手続きはどこでできますか？" for _ in range(limit_questions)]
    return sentences, questions, "generated"


def page_texts(sentences: list[str], start: int, pages: int) -> list[list[str]]:
    """``pages`` lists of sentences of about CHARS_PER_PAGE characters, taken from ``start`` on."""
    out: list[list[str]] = []
    index = start
    for _ in range(pages):
        page: list[str] = []
        while sum(map(len, page)) < CHARS_PER_PAGE:
            page.append(sentences[index % len(sentences)])
            index += 1
        out.append(page)
    return out


def make_file(fmt: str, number: int, pages: list[list[str]]) -> tuple[str, bytes]:
    title = f"ベンチ資料{number:03d}"
    buffer = io.BytesIO()
    if fmt == "docx":
        import docx

        document = docx.Document()
        for index, page in enumerate(pages):
            if index:
                document.add_page_break()
            document.add_heading(f"{title} 第{index + 1}章", level=1)
            for start in range(0, len(page), 2):
                document.add_paragraph("".join(page[start:start + 2]))
        document.save(buffer)
    elif fmt == "xlsx":
        import openpyxl

        workbook = openpyxl.Workbook()
        workbook.remove(workbook.active)
        for index, page in enumerate(pages):
            sheet = workbook.create_sheet(f"第{index + 1}表")
            sheet.append(["番号", "内容", "担当"])
            for row, sentence in enumerate(page, start=1):
                sheet.append([row, sentence, "市民課"])
        workbook.save(buffer)
    elif fmt == "pptx":
        from pptx import Presentation

        presentation = Presentation()
        for index, page in enumerate(pages):
            slide = presentation.slides.add_slide(presentation.slide_layouts[1])
            slide.shapes.title.text = f"{title} {index + 1}"
            slide.placeholders[1].text_frame.text = "".join(page[:-1])
            slide.notes_slide.notes_text_frame.text = page[-1]
        presentation.save(buffer)
    elif fmt == "pdf":
        from reportlab.lib.pagesizes import A4
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont
        from reportlab.pdfgen import canvas

        pdfmetrics.registerFont(UnicodeCIDFont("HeiseiKakuGo-W5"))
        pdf = canvas.Canvas(buffer, pagesize=A4)
        pdf.setTitle(title)
        _, height = A4
        for page in pages:
            pdf.setFont("HeiseiKakuGo-W5", 10.5)
            y = height - 70
            for sentence in page:
                for start in range(0, len(sentence), 42):
                    pdf.drawString(56, y, sentence[start:start + 42])
                    y -= 16
                y -= 6
            pdf.showPage()
        pdf.save()
    elif fmt == "html":
        from html import escape

        body = "".join(f"<h2>第{index + 1}節</h2>" + "".join(f"<p>{escape(s)}</p>" for s in page)
                       for index, page in enumerate(pages))
        buffer.write(f'<html><head><meta charset="utf-8"><title>{title}</title></head><body><nav><a href="/">'
                     f"ホーム</a></nav><main><h1>{title}</h1>{body}</main><footer>あかぎ市</footer></body></html>"
                     .encode())
    else:
        buffer.write("\n\n".join("".join(page) for page in pages).encode())
    return f"{title}.{fmt}", buffer.getvalue()


# --------------------------------------------------------------------------- setup


def ensure_tenant():
    from django.core.management import call_command

    from tenants.models import Tenant
    from tenants.services import create_tenant

    log("migrating the bench database")
    call_command("migrate_schemas", verbosity=0)
    if not Tenant.objects.filter(slug=TENANT).exists():
        create_tenant(slug=TENANT, name="RAG計測", admin_email="kanri@benchrag.example.jp", admin_staff_number=ADMIN,
                      admin_password="Kanri#BenchRag2026")  # noqa: S106 - a scratch tenant in the bench's own database
    return Tenant.objects.get(slug=TENANT)


def empty_knowledge() -> None:
    from django.db import connection

    from rag.indexing import create_embedding_index

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE rag_chunk, rag_document, rag_collection_groups, rag_collection_users, rag_feedback, "
                       "rag_collection CASCADE")
    create_embedding_index()  # in case an interrupted run left it dropped
    with connection.cursor() as cursor:
        cursor.execute("CREATE INDEX IF NOT EXISTS rag_chunk_lexical_gin ON rag_chunk USING gin (lexical)")


def users():
    from accounts.models import User

    admin = User.objects.get(staff_number=ADMIN)
    narrow = User.objects.filter(staff_number=NARROW).first() or User.objects.create_user(
        NARROW, "shokuin@benchrag.example.jp", None, full_name="計測 職員")
    return admin, narrow


# --------------------------------------------------------------------------- ingestion


def measure_ingestion(admin, sentences: list[str], docs: int, pages: int) -> dict[str, Any]:
    from config.celery import app
    from llm.embeddings import embed_passages
    from rag import ingest, services
    from rag.chunking import chunk
    from rag.models import Collection, Document
    from rag.parsing import parse

    started = time.perf_counter()
    embed_passages(["モデルを読み込むための文です。"])
    model_load = time.perf_counter() - started
    collection = Collection.objects.create(name="取り込み計測", owner=admin, access=Collection.Access.ALL)
    offset = 0
    per_format: dict[str, Any] = {}
    for fmt in FORMATS:
        files = []
        for number in range(docs):
            files.append(make_file(fmt, number, page_texts(sentences, offset, pages)))
            offset += pages * 12
        parse_seconds = 0.0
        for name, data in files:
            began = time.perf_counter()
            chunk(parse(name, data))
            parse_seconds += time.perf_counter() - began
        documents = [services.add_file(actor=admin, collection=collection, filename=f"{fmt}-{name}", data=data)[0]
                     for name, data in files]
        log(f"ingesting {len(documents)} .{fmt} documents of {pages} pages")
        began = time.perf_counter()
        for document in documents:
            ingest.run(document.pk, content_hash=document.content_hash)
        seconds = time.perf_counter() - began
        rows = list(Document.objects.filter(pk__in=[d.pk for d in documents]).values("state", "pages", "chunk_count"))
        page_count = sum(row["pages"] or 0 for row in rows)
        passages = sum(row["chunk_count"] for row in rows)
        per_format[fmt] = {
            "documents": len(rows),
            "failed": sum(row["state"] != Document.State.READY for row in rows),
            "pages": page_count or None,  # docx, html and txt have no pages the parser counts
            "passages": passages,
            "bytes": sum(len(data) for _, data in files),
            "seconds": round(seconds, 2),
            "documents_per_s": round(len(rows) / seconds, 3),
            "pages_per_s": round(page_count / seconds, 3) if page_count else None,
            "passages_per_s": round(passages / seconds, 2),
            "parse_and_chunk_share": round(min(parse_seconds / seconds, 1.0), 3),
            "parse_and_chunk_documents_per_s": round(len(files) / parse_seconds, 2),
        }
        log(f"  .{fmt}: {per_format[fmt]['documents_per_s']} documents/s, {passages} passages in {seconds:.1f} s")
    app.control.purge()  # add_file queued a task per document; no worker runs here, and ingest.run did the work
    return {"workers": 1, "cpus": os.cpu_count(), "documents_per_format": docs, "pages_per_document": pages,
            "model_load_seconds": round(model_load, 2), "formats": per_format}


# --------------------------------------------------------------------------- retrieval


class Corpus:
    """Sentences with their lexical tokens, and anchor vectors to mix passage vectors from."""

    def __init__(self, sentences: list[str], seed: int = 11):
        import numpy

        from llm.embeddings import embed_passages
        from rag.chunking import lexical_tokens

        self.rng = numpy.random.default_rng(seed)
        pool = sentences[:6000]
        log(f"tokenising {len(pool)} sentences and embedding {ANCHORS} of them as anchors")
        self.sentences = pool
        self.tokens = [" ".join(lexical_tokens(sentence)) for sentence in pool]
        picked = self.rng.choice(len(pool), size=min(ANCHORS, len(pool)), replace=False)
        self.anchors = numpy.asarray(embed_passages([pool[i] for i in picked]), dtype=numpy.float32)
        self.noise = 0.15 / self.anchors.shape[1] ** 0.5

    def vectors(self, count: int):
        import numpy

        mixed = self.anchors[self.rng.integers(len(self.anchors), size=(count, 3))].mean(axis=1)
        mixed += self.rng.normal(0.0, self.noise, size=mixed.shape).astype(numpy.float32)
        return mixed / numpy.linalg.norm(mixed, axis=1, keepdims=True)

    def texts(self, count: int) -> list[tuple[str, str]]:
        picks = self.rng.integers(len(self.sentences), size=(count, 4))
        return [("".join(self.sentences[i] for i in row), " ".join(self.tokens[i] for i in row)) for row in picks]


def make_collections(admin, narrow) -> list[int]:
    from rag.models import Collection

    ids = []
    for number in range(COLLECTIONS):
        collection = Collection.objects.create(name=f"検索計測{number:02d}", owner=admin,
                                               access=Collection.Access.USERS)
        if number < READABLE_BY_NARROW:
            collection.users.add(narrow)
        ids.append(collection.pk)
    return ids


def load_passages(corpus: Corpus, collection_ids: list[int], target: int, schema: str) -> dict[str, float]:
    """Synthetic passages up to ``target`` in the search collections, indexes rebuilt after the bulk load."""
    from django.db import connection, transaction
    from pgvector.psycopg.vector import register_vector_info
    from psycopg.types import TypeInfo

    from rag.indexing import create_embedding_index, drop_embedding_index
    from rag.models import Chunk, Document

    have = Chunk.objects.filter(collection_id__in=collection_ids).count()
    need = target - have
    if need <= 0:
        return {}
    first = have // CHUNKS_PER_DOCUMENT
    documents = Document.objects.bulk_create(
        Document(collection_id=collection_ids[n % len(collection_ids)], title=f"合成文書{first + n}",
                 original_name=f"synthetic-{first + n}.txt", content_hash=f"synthetic-{first + n}",
                 state=Document.State.READY, chunk_count=CHUNKS_PER_DOCUMENT, progress=100)
        for n in range(-(-need // CHUNKS_PER_DOCUMENT))
    )
    log(f"loading {need:,} passages ({len(documents)} documents) up to {target:,}")
    timings: dict[str, float] = {}
    began = time.perf_counter()
    drop_embedding_index()
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX IF EXISTS rag_chunk_lexical_gin")
    with transaction.atomic(), connection.connection.cursor() as cursor:  # psycopg's own cursor, for COPY
        # The vector type's binary dumper, on this cursor only (Django keeps reading vectors its own way).
        register_vector_info(cursor, TypeInfo.fetch(connection.connection, "vector"))
        cursor.execute("CREATE TEMP TABLE bench_passages (document_id bigint, collection_id bigint, ordinal int, "
                       "text text, tokens text, embedding public.vector) ON COMMIT DROP")
        with cursor.copy("COPY bench_passages FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["int8", "int8", "int4", "text", "text", "vector"])
            done = 0
            for document in documents:
                count = min(CHUNKS_PER_DOCUMENT, need - done)
                if count <= 0:
                    break
                for ordinal, ((text, tokens), vector) in enumerate(zip(corpus.texts(count), corpus.vectors(count),
                                                                       strict=True)):
                    copy.write_row([document.pk, document.collection_id, ordinal, text, tokens, vector])
                done += count
        cursor.execute(
            f'INSERT INTO "{schema}".rag_chunk (document_id, collection_id, ordinal, text, heading_path, sheet, '  # noqa: S608 - the bench's own schema name
            "cells, embedding, lexical) SELECT document_id, collection_id, ordinal, text, '[]', '', '', embedding, "
            "to_tsvector('simple', tokens) FROM bench_passages"
        )
    timings["load_seconds"] = round(time.perf_counter() - began, 1)
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute("CREATE INDEX rag_chunk_lexical_gin ON rag_chunk USING gin (lexical)")
    timings["gin_index_seconds"] = round(time.perf_counter() - began, 1)
    began = time.perf_counter()
    create_embedding_index()
    timings["hnsw_index_seconds"] = round(time.perf_counter() - began, 1)
    with connection.cursor() as cursor:
        cursor.execute("RESET maintenance_work_mem")
        cursor.execute("ANALYZE rag_chunk")
    return timings


def vector_plan(vector, allowed: list[int]) -> str:
    from django.db import connection, transaction

    from rag import retrieval

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true), "
                       "set_config('hnsw.ef_search', '100', true)")
        cursor.execute("EXPLAIN " + retrieval.vector_sql(len(vector)),
                       [retrieval.vector_literal(vector), allowed, 50])
        plan = " ".join(row[0] for row in cursor.fetchall())
    return "hnsw" if "rag_chunk_embedding_hnsw" in plan else "exact scan"


def arm_timings(allowed: list[int], questions: list[str], vectors: list) -> dict[str, float | None]:
    """Each arm's statement alone (what ``search`` runs inside one transaction), to see where the time goes."""
    from django.db import connection, transaction

    from rag import retrieval

    params = retrieval.DEFAULT_PARAMS
    vector_ms: list[float] = []
    lexical_ms: list[float] = []
    for question, vector in zip(questions, vectors, strict=True):
        terms = retrieval.query_terms(question)
        with transaction.atomic(), connection.cursor() as cursor:
            began = time.perf_counter()
            retrieval._vector_arm(cursor, vector, allowed, params.candidates, params.ef_search)
            middle = time.perf_counter()
            retrieval._bm25_arm(cursor, terms, allowed, params.candidates, params)
            vector_ms.append((middle - began) * 1000)
            lexical_ms.append((time.perf_counter() - middle) * 1000)
    return {"vector_arm_ms_p50": percentile(vector_ms, 0.5, 1), "vector_arm_ms_p95": percentile(vector_ms, 0.95, 1),
            "lexical_arm_ms_p50": percentile(lexical_ms, 0.5, 1),
            "lexical_arm_ms_p95": percentile(lexical_ms, 0.95, 1)}


def measure_searches(user, collection_ids: list[int], questions: list[str], vectors: list,
                     embed_ms: list[float]) -> dict[str, Any]:
    from rag.queries import readable_collection_ids
    from rag.retrieval import search

    for question, vector in zip(questions[:10], vectors[:10], strict=False):  # warm the caches
        search(user, question, collection_ids=collection_ids, k=10, query_vector=vector)
    search_ms: list[float] = []
    total_ms: list[float] = []
    hits = 0
    for question, vector, embedded in zip(questions, vectors, embed_ms, strict=True):
        began = time.perf_counter()
        found = search(user, question, collection_ids=collection_ids, k=10, query_vector=vector)
        elapsed = (time.perf_counter() - began) * 1000
        search_ms.append(elapsed)
        total_ms.append(elapsed + embedded)
        hits += len(found)
    allowed = readable_collection_ids(user, collection_ids)
    return {
        "collections_readable": len(allowed),
        "search_ms_p50": percentile(search_ms, 0.5, 1), "search_ms_p95": percentile(search_ms, 0.95, 1),
        "with_query_embedding_ms_p50": percentile(total_ms, 0.5, 1),
        "with_query_embedding_ms_p95": percentile(total_ms, 0.95, 1),
        **arm_timings(allowed, questions, vectors),
        "mean_hits": round(hits / max(len(questions), 1), 2),
        "vector_plan": vector_plan(vectors[0], allowed),
    }


def measure_retrieval(admin, narrow, sentences: list[str], questions: list[str], scales: list[int],
                      schema: str) -> dict[str, Any]:
    import numpy

    from llm.embeddings import embed_query
    from rag.models import Chunk

    corpus = Corpus(sentences)
    collection_ids = make_collections(admin, narrow)
    log(f"embedding {len(questions)} questions")
    vectors, embed_ms = [], []
    for question in questions:
        began = time.perf_counter()
        vectors.append(embed_query(question))
        embed_ms.append((time.perf_counter() - began) * 1000)
    sample = corpus.vectors(2000)
    similarity = sample[:1000] @ sample[1000:].T
    report: dict[str, Any] = {
        "questions": len(questions),
        "query_embedding_ms_p50": percentile(embed_ms, 0.5, 1),
        "query_embedding_ms_p95": percentile(embed_ms, 0.95, 1),
        "synthetic_vectors": {"anchors": len(corpus.anchors),
                              "mean_cosine_between_passages": round(float(numpy.mean(similarity)), 3),
                              "mean_cosine_question_to_nearest": round(float(numpy.mean(
                                  numpy.max(numpy.asarray(vectors, dtype=numpy.float32) @ sample.T, axis=1))), 3)},
        "scales": {},
    }
    for target in scales:
        timings = load_passages(corpus, collection_ids, target, schema)
        total = Chunk.objects.filter(collection_id__in=collection_ids).count()
        log(f"searching {len(questions)} questions at {total:,} passages, as both users")
        report["scales"][str(target)] = {
            "passages": total,
            **timings,
            "without_access_filter": measure_searches(admin, collection_ids, questions, vectors, embed_ms),
            "with_access_filter": measure_searches(narrow, collection_ids, questions, vectors, embed_ms),
        }
        log(f"  p50 {report['scales'][str(target)]['without_access_filter']['search_ms_p50']} ms / filtered "
            f"{report['scales'][str(target)]['with_access_filter']['search_ms_p50']} ms")
    return report


# --------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: 2 documents of 2 pages per format, "
                        "30 questions, 2,000 and 10,000 passages (about 2 minutes)")
    parser.add_argument("--docs", type=int, help="documents per format (default 4)")
    parser.add_argument("--pages", type=int, help="pages, slides or sheets per document (default 4)")
    parser.add_argument("--queries", type=int, help="questions per measurement (default 100)")
    parser.add_argument("--scales", help="passage counts to measure at, ascending (default 10000,100000)")
    parser.add_argument("--keep-running", action="store_true", help="leave the embedded servers running")
    args = parser.parse_args()
    docs = args.docs or (2 if args.quick else 4)
    pages = args.pages or (2 if args.quick else 4)
    queries = args.queries or (30 if args.quick else 100)
    scales = sorted(int(s) for s in (args.scales or ("2000,10000" if args.quick else "10000,100000")).split(","))

    began = time.perf_counter()
    prepare_environment(DATA_DIR, drop=EMBEDDING_PROVIDER_VARIABLES)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"bench": "rag", "quick": args.quick, "config": {
        "data_dir": str(DATA_DIR.relative_to(ROOT)), "tenant": TENANT, "cpus": os.cpu_count(),
        "load_average_at_start": [round(value, 2) for value in os.getloadavg()]}}
    try:
        import django

        django.setup()
        from llm.embeddings import embedding_model_name
        from tenants.crossing import in_tenant

        sentences, questions, source = text_source(queries)
        report["config"].update(text_source=source, embedding_model=embedding_model_name())
        tenant = ensure_tenant()
        with in_tenant(tenant):
            empty_knowledge()
            admin, narrow = users()
            report["ingestion"] = measure_ingestion(admin, sentences, docs, pages)
            report["retrieval"] = measure_retrieval(admin, narrow, sentences, questions, scales, tenant.schema_name)
        report["total_seconds"] = round(time.perf_counter() - began, 1)
        report["config"]["load_average_at_end"] = [round(value, 2) for value in os.getloadavg()]
    finally:
        if not args.keep_running:
            log("stopping the embedded servers")
            stop_embedded()
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
