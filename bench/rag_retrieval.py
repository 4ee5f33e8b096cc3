"""Retrieval quality on the JSQuAD test bed (../shared/data/README.md), through real files; prints one JSON object.

    .venv/bin/python bench/rag_retrieval.py [--corpus /tmp/corpus] [--sweep] [--reingest] [--keep-running]

1. The corpus: ``../shared/tools/make_corpus.py jsquad-valid-v1.3.json CORPUS --prefix v`` unless CORPUS already
   holds docs/ and queries.jsonl (1,145 paragraphs as .docx .pdf .xlsx .pptx .html .txt, 4,442 questions).
2. A scratch municipality ``ragbench`` in its own data directory ``.data/rag-eval`` (embedded PostgreSQL and
   Redis, stopped at the end unless ``--keep-running``), so a developer's data is never touched.
3. Ingestion with ``manage.py rag_ingest_dir`` (parse, chunk, embed, index: the worker's steps); skipped for
   files already ingested with the current embedding model unless ``--reingest``.
4. Every question through ``rag.retrieval.search`` (the chat's code, as the municipality's administrator,
   k=10), scored like ``../shared/tools/score_retrieval.py`` (which is also run on the written results):
   recall@1/5/10 and MRR@10, with per-query latency (query embedding included).
5. ``--sweep``: each arm alone and fusion variants, from each arm's top 100 computed once per question (query
   vectors reused); a held-out check (weights chosen on half of the articles, scored on the other half); and
   HNSW recall against an exact scan for several ``hnsw.ef_search`` values on a sample of questions.

The questions are used to measure, never to build anything the search uses (no word lists from them).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path, PurePosixPath
from typing import Any

from support import EMBEDDING_PROVIDER_VARIABLES, ROOT, logger, percentile, prepare_environment, stop_embedded

SHARED = ROOT.parent / "shared"
DATA_DIR = ROOT / ".data" / "rag-eval"
TENANT = "ragbench"
COLLECTION = "jsquad"
ADMIN = "R001"
REFERENCE = {  # ../shared/data/README.md: 2,304 plain-text documents (1,159 distractors), no chunking
    "bm25_sudachi": {"recall@5": 0.969, "mrr@10": 0.922},
    "e5_small_q4": {"recall@5": 0.936, "mrr@10": 0.858},
    "rrf_both": {"recall@5": 0.970, "recall@10": 0.983},
}
log = logger("bench", clock=True)


def ensure_corpus(corpus: Path) -> None:
    if (corpus / "queries.jsonl").exists() and (corpus / "docs").is_dir():
        return
    log(f"building the corpus in {corpus}")
    subprocess.run(
        [sys.executable, str(SHARED / "tools" / "make_corpus.py"), str(SHARED / "data" / "jsquad-valid-v1.3.json"),
         str(corpus), "--prefix", "v"],
        check=True, stdout=sys.stderr,
    )


def ensure_tenant():
    from django.core.management import call_command

    from tenants.models import Tenant
    from tenants.services import create_tenant

    log("migrating")
    call_command("migrate_schemas", verbosity=0)
    tenant = Tenant.objects.filter(slug=TENANT).first()
    if tenant is None:
        create_tenant(slug=TENANT, name="RAG評価", admin_email="admin@ragbench.example.jp", admin_staff_number=ADMIN,
                      admin_password="Kanri#Bench2026")  # noqa: S106 - a scratch tenant in the bench's own database
        tenant = Tenant.objects.get(slug=TENANT)
    return tenant


def ingest(corpus: Path, *, replace: bool, jobs: int) -> dict:
    import io

    from django.core.management import call_command

    out = io.StringIO()
    arguments = [str(corpus / "docs"), "--tenant", TENANT, "--collection", COLLECTION, "--quiet", "--jobs", str(jobs)]
    if replace:
        arguments.append("--replace")
    log("ingesting (files already ingested with this embedding model are skipped)")
    call_command("rag_ingest_dir", *arguments, stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


def score(gold: dict[str, str], ranked_sources: dict[str, list[str]]) -> dict[str, float]:
    """The computation of score_retrieval.py: distinct documents by file stem, top 10."""
    r1 = r5 = r10 = mrr = 0.0
    for qid, wanted in gold.items():
        ranked: list[str] = []
        for source in ranked_sources.get(qid, []):
            stem = PurePosixPath(str(source)).stem
            if stem not in ranked:
                ranked.append(stem)
        ranked = ranked[:10]
        if wanted in ranked:
            k = ranked.index(wanted) + 1
            r1 += k <= 1
            r5 += k <= 5
            r10 += 1
            mrr += 1 / k
    n = max(1, len(gold))
    return {"recall@1": round(r1 / n, 4), "recall@5": round(r5 / n, 4), "recall@10": round(r10 / n, 4),
            "mrr@10": round(mrr / n, 4)}


def run_default(queries: list[dict], user, results_path: Path) -> tuple[dict, dict, dict[str, list[float]]]:
    from llm.embeddings import embed_query
    from rag.management.commands.rag_search import hit_json
    from rag.retrieval import search

    vectors: dict[str, list[float]] = {}
    ranked: dict[str, list[str]] = {}
    embed_ms: list[float] = []
    total_ms: list[float] = []
    log(f"searching {len(queries)} questions with the default parameters")
    with open(results_path, "w", encoding="utf-8") as out:
        for number, query in enumerate(queries, start=1):
            started = time.perf_counter()
            vector = embed_query(query["question"])
            embedded = time.perf_counter()
            hits = search(user, query["question"], k=10, query_vector=vector)
            finished = time.perf_counter()
            embed_ms.append((embedded - started) * 1000)
            total_ms.append((finished - started) * 1000)
            vectors[query["id"]] = vector
            ranked[query["id"]] = [hit.source for hit in hits]
            out.write(json.dumps({"id": query["id"], "hits": [hit_json(hit) for hit in hits]}, ensure_ascii=False))
            out.write("\n")
            if number % 1000 == 0:
                log(f"  {number} questions")
    latency = {
        "search_ms_p50": round(percentile(total_ms, 0.5), 1), "search_ms_p95": round(percentile(total_ms, 0.95), 1),
        "query_embedding_ms_p50": round(percentile(embed_ms, 0.5), 1),
        "search_ms_mean": round(statistics.fmean(total_ms), 1),
    }
    return score({q["id"]: q["gold"] for q in queries}, ranked), latency, vectors


def official_score(corpus: Path, results_path: Path) -> str:
    result = subprocess.run(
        [sys.executable, str(SHARED / "tools" / "score_retrieval.py"), str(corpus / "queries.jsonl"),
         str(results_path)],
        check=True, capture_output=True, text=True,
    )
    return result.stdout.strip().splitlines()[-1]


def collect_arms(queries: list[dict], vectors: dict, allowed: list[int], depth: int = 100) -> dict[str, dict]:
    from django.db import connection, transaction

    from rag import retrieval
    from rag.models import Chunk

    source_of = dict(Chunk.objects.values_list("pk", "document__original_name"))
    params = retrieval.with_params(candidates=depth)
    arms: dict[str, dict] = {"vector": {}, "bm25": {}, "bm25_with_question_words": {}, "ts_rank_cd": {}}
    log(f"collecting each arm's top {depth} for {len(queries)} questions")
    for query in queries:
        terms = retrieval.query_terms(query["question"])
        all_terms = retrieval.query_terms(query["question"], drop_question_words=False)
        with transaction.atomic(), connection.cursor() as cursor:
            rows = {
                "vector": retrieval._vector_arm(cursor, vectors[query["id"]], allowed, depth, max(depth, 100)),
                "bm25": retrieval._bm25_arm(cursor, terms, allowed, depth, params),
                "bm25_with_question_words": retrieval._bm25_arm(cursor, all_terms, allowed, depth, params),
                "ts_rank_cd": retrieval._ts_rank_cd_arm(cursor, terms, allowed, depth),
            }
        for name, found in rows.items():
            arms[name][query["id"]] = found
    return {"arms": arms, "source_of": source_of}


def fused_sources(collected: dict, qid: str, **changes) -> list[str]:
    from rag import retrieval

    params = retrieval.with_params(**changes)
    n = params.candidates
    lexical = collected["arms"]["bm25"][qid][:n]
    fused = retrieval.fuse(collected["arms"]["vector"][qid][:n], lexical, params)
    return [collected["source_of"][item.chunk_id] for item in fused[:10]]


def sweep(queries: list[dict], collected: dict) -> dict[str, Any]:
    gold = {q["id"]: q["gold"] for q in queries}

    def arm(name: str) -> dict:
        return score(gold, {qid: [collected["source_of"][c] for c, _ in rows]
                            for qid, rows in collected["arms"][name].items()})

    def fused(subset: list[dict], **changes) -> dict:
        return score({q["id"]: q["gold"] for q in subset},
                     {q["id"]: fused_sources(collected, q["id"], **changes) for q in subset})

    result: dict[str, Any] = {name: arm(name) for name in collected["arms"]}
    convex_grid = [{"fusion": "convex", "lexical_weight": w, "vector_weight": round(1 - w, 2), "candidates": n}
                   for w in (0.4, 0.5, 0.6, 0.7, 0.8) for n in (20, 50, 100)]
    rrf_grid = [{"fusion": "rrf", "rrf_k": k, "lexical_weight": w, "vector_weight": 1.0, "candidates": n}
                for k in (1, 10, 60) for w in (1.0, 2.0) for n in (20, 50)]
    log("fusion variants")
    result["fusion"] = [{**changes, **fused(queries, **changes)} for changes in convex_grid + rrf_grid]
    # Held out: weights chosen on the questions of half of the articles, scored on the other half.
    article = lambda qid: qid.split("p")[0]  # noqa: E731 - JSQuAD ids are a<article>p<paragraph>q<question>
    articles = sorted({article(q["id"]) for q in queries})
    first = set(articles[::2])
    halves = {"even": [q for q in queries if article(q["id"]) in first],
              "odd": [q for q in queries if article(q["id"]) not in first]}
    held_out = []
    for grid_name, grid in (("convex", convex_grid), ("rrf", rrf_grid)):
        for tuned, tested in (("even", "odd"), ("odd", "even")):
            best = max(grid, key=lambda changes, tuned=tuned: fused(halves[tuned], **changes)["mrr@10"])
            held_out.append({"fusion": grid_name, "chosen_on": tuned, "params": best,
                             "scored_on": tested, **fused(halves[tested], **best)})
    result["held_out"] = held_out
    return result


def hnsw_recall(queries: list[dict], vectors: dict, allowed: list[int], sample: int = 300) -> list[dict]:
    """Overlap of the HNSW top 50 (the search's statement) with an exact scan's, for several ef_search."""
    from django.db import connection, transaction

    from rag import retrieval

    chosen = queries[:: max(1, len(queries) // sample)][:sample]
    out = []
    for ef in (10, 40, 100, 200):
        overlap: list[float] = []
        used_index = None
        for query in chosen:
            vector = vectors[query["id"]]
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_seqscan = off")
                cursor.execute("SET LOCAL enable_sort = off")  # make the planner take the HNSW index at this size
                if used_index is None:
                    cursor.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
                    cursor.execute("EXPLAIN " + retrieval.vector_sql(len(vector)),
                                   [retrieval.vector_literal(vector), allowed, 50])
                    used_index = any("rag_chunk_embedding_hnsw" in row[0] for row in cursor.fetchall())
                approximate = {c for c, _ in retrieval._vector_arm(cursor, vector, allowed, 50, ef)}
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_indexscan = off")
                cursor.execute("SET LOCAL enable_bitmapscan = off")
                exact = {c for c, _ in retrieval._vector_arm(cursor, vector, allowed, 50, ef)}
            overlap.append(len(approximate & exact) / max(1, len(exact)))
        out.append({"ef_search": ef, "recall_of_top50": round(statistics.fmean(overlap), 4), "questions": len(chosen),
                    "hnsw_index_used": used_index})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", default="/tmp/corpus")  # noqa: S108 - the path the issue and README use
    parser.add_argument("--data-dir", default=str(DATA_DIR))
    parser.add_argument("--sweep", action="store_true")
    parser.add_argument("--reingest", action="store_true")
    parser.add_argument("--jobs", type=int, default=2, help="parsing processes during ingestion")
    parser.add_argument("--keep-running", action="store_true", help="leave the embedded servers running")
    args = parser.parse_args()

    corpus = Path(args.corpus)
    # The embedded servers and the embedded embedding model, whatever the shell says.
    prepare_environment(Path(args.data_dir), drop=EMBEDDING_PROVIDER_VARIABLES)
    ensure_corpus(corpus)
    import django

    django.setup()
    try:
        report = measure(corpus, args)
    finally:
        if not args.keep_running:
            stop_embedded()
    print(json.dumps(report, ensure_ascii=False, indent=2))


def measure(corpus: Path, args) -> dict:
    from accounts.models import User
    from llm.embeddings import embedding_model_name
    from rag.models import Chunk, Collection, Document
    from rag.queries import readable_collection_ids
    from rag.retrieval import DEFAULT_PARAMS
    from tenants.crossing import in_tenant

    with open(corpus / "queries.jsonl", encoding="utf-8") as lines:
        queries = [json.loads(line) for line in lines if line.strip()]
    tenant = ensure_tenant()
    with in_tenant(tenant):
        ingestion = ingest(corpus, replace=args.reingest, jobs=args.jobs)
        user = User.objects.get(staff_number=ADMIN)
        collection = Collection.objects.get(name=COLLECTION)
        allowed = readable_collection_ids(user, [collection.pk])
        results_path = Path(args.data_dir) / "rag_search_results.jsonl"
        figures, latency, vectors = run_default(queries, user, results_path)
        report: dict[str, Any] = {
            "corpus": {"documents": Document.objects.filter(collection=collection).count(),
                       "ready": Document.objects.filter(collection=collection, state="ready").count(),
                       "passages": Chunk.objects.filter(collection=collection).count(), "questions": len(queries)},
            "embedding_model": embedding_model_name(),
            "ingestion": ingestion,
            "params": asdict(DEFAULT_PARAMS),
            "default": figures,
            "score_retrieval_py": official_score(corpus, results_path),
            "latency": latency,
            "reference": REFERENCE,
        }
        if args.sweep:
            collected = collect_arms(queries, vectors, allowed)
            report["sweep"] = sweep(queries, collected)
            log("HNSW recall against an exact scan")
            report["hnsw"] = hnsw_recall(queries, vectors, allowed)
    return report


if __name__ == "__main__":
    main()
