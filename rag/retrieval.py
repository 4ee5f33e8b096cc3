"""Hybrid retrieval over the passages a user may read: pgvector HNSW (cosine) and a Japanese lexical index (BM25
over SudachiPy tokens), fused by a weighted sum of normalised scores or by reciprocal rank.

``search(user, query, collection_ids=..., k=...)`` returns ``Hit``s, best first. The access rule is applied
inside every SQL statement (``collection_id = ANY(<ids from rag.queries.readable_collection_ids>)``), so no
passage of a collection the user may not read is ever scored, counted or returned; an id the caller passes in
``collection_ids`` that the user may not read is simply dropped.

Vector arm: ``ORDER BY <embedding as vector(N)> <=> q`` (the HNSW index's expression, see migration 0002)
with the collection filter in the WHERE clause. A plain HNSW scan stops after ``hnsw.ef_search`` candidates and
filters afterwards, which loses results when the user may read only a small part of the municipality's
passages; ``hnsw.iterative_scan = relaxed_order`` makes pgvector keep scanning until enough rows pass the
filter. Relaxed order can return neighbours slightly out of order, so the rows are re-sorted by distance.

Lexical arm: the question's SudachiPy tokens (the same function as the index, question words such as 何・どこ
dropped) against ``Chunk.lexical``. Two rankings are available (``RetrievalParams.lexical``):

- ``"bm25"`` (default): Okapi BM25 computed in SQL from the tsvector: term frequency = the lexeme's number of
  positions, document frequency counted with the GIN index among the passages the user may read, length =
  characters of the passage. Candidates are the passages containing the rarest query terms up to a work
  budget, so a question made only of very common words cannot make the scoring read the whole municipality.
- ``"ts_rank_cd"``: PostgreSQL's cover density over ``to_tsquery('simple', t1 | t2 | ...)``. It ignores how
  rare a term is: on the JSQuAD bed it finds the right passage in the top 5 for 64% of questions, BM25 97%.

Fusion (``RetrievalParams.fusion``), over each arm's top ``candidates``:

- ``"convex"`` (default): each arm's scores min-max normalised over its candidates, then
  ``(vector_weight * v + lexical_weight * l) / (vector_weight + lexical_weight)``; a passage one arm did not
  find gets 0 from it. Unlike rank fusion it keeps how far ahead an arm's best passage is.
- ``"rrf"``: reciprocal rank, ``Σ weight / (rrf_k + rank)``.

On the JSQuAD bed (bench/rag_retrieval.py, 1,145 documents, 4,442 questions) the defaults give MRR@10 0.944 and
recall@5 0.977. RRF with k=60 and equal weights gave 0.915 and 0.972, below BM25 alone (0.937, 0.973); RRF at
its best (k=1, lexical weight twice the vector's) 0.939 and 0.978. Weights chosen on half of the articles gave
the same figures on the other half, for both fusions.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from django.core.cache import cache
from django.db import connection, transaction

from llm.embeddings import embed_query
from rag.chunking import lexical_tokens
from rag.indexing import embedding_expression
from rag.models import Chunk, Document
from rag.queries import readable_collection_ids

# Question words: in a question, never in the passage that answers it (語彙の正規化形 of SudachiPy).
QUESTION_WORDS = frozenset({
    "何", "誰", "どこ", "何処", "いつ", "何時", "どの", "どれ", "何れ", "どちら", "何方", "どっち", "どう", "如何",
    "どんな", "どのよう", "どのような", "何故", "なぜ", "幾", "幾つ", "いくつ", "幾ら", "いくら", "どうして",
})
MAX_QUERY_TERMS = 64  # a question pasted with a long text: the first 64 distinct terms are plenty to rank by


@dataclass(frozen=True)
class RetrievalParams:
    """Knobs of the hybrid search; the defaults are what bench/rag_retrieval.py measured best."""

    candidates: int = 50  # passages taken from each arm before fusion
    fusion: str = "convex"  # or "rrf"
    vector_weight: float = 0.4
    lexical_weight: float = 0.6
    rrf_k: int = 60  # fusion="rrf" only
    ef_search: int = 100  # HNSW candidate list; raised to ``candidates`` when smaller
    lexical: str = "bm25"  # or "ts_rank_cd"
    bm25_k1: float = 0.9  # Anserini's defaults, which suit short passages
    bm25_b: float = 0.4
    lexical_budget: int = 20_000  # at most this many term occurrences (sum of document frequencies) to score
    drop_question_words: bool = True


DEFAULT_PARAMS = RetrievalParams()


@dataclass(frozen=True)
class Hit:
    chunk_id: int
    document_id: int
    document_title: str
    source: str  # the original file name or the URL: what a citation names and links to
    collection_id: int
    text: str
    ordinal: int
    heading_path: list[str] = field(default_factory=list)
    page: int | None = None
    slide: int | None = None
    sheet: str = ""
    cells: str = ""
    vector_score: float | None = None  # cosine similarity, when the vector arm found the passage
    lexical_score: float | None = None  # BM25 (or ts_rank_cd) score, when the lexical arm found it
    vector_rank: int | None = None
    lexical_rank: int | None = None
    fused_score: float = 0.0  # convex fusion: 0..1; rrf: sum of weight / (rrf_k + rank)
    rank: int = 0  # 1 = best

    @property
    def position(self) -> dict:
        """Where the passage is, for a citation link: page / slide / sheet and cells / heading path."""
        position: dict = {}
        if self.page is not None:
            position["page"] = self.page
        if self.slide is not None:
            position["slide"] = self.slide
        if self.sheet:
            position["sheet"] = self.sheet
        if self.cells:
            position["cells"] = self.cells
        if self.heading_path:
            position["heading_path"] = list(self.heading_path)
        return position


def search(
    user,
    query: str,
    *,
    collection_ids: list[int] | None = None,
    k: int = 8,
    params: RetrievalParams | None = None,
    query_vector: Sequence[float] | None = None,
) -> list[Hit]:
    """The ``k`` best passages for ``query`` among the collections ``user`` may read (narrowed to
    ``collection_ids`` when given). ``query_vector`` skips embedding the query (benchmarks embed in bulk)."""
    params = params or DEFAULT_PARAMS
    query = (query or "").strip()
    if not query or k <= 0:
        return []
    allowed = readable_collection_ids(user, collection_ids)
    if not allowed:
        return []
    terms = query_terms(query, drop_question_words=params.drop_question_words)
    vector = list(query_vector) if query_vector is not None else embed_query(query)
    candidates = max(params.candidates, k)
    with transaction.atomic(), connection.cursor() as cursor:
        vector_rows = _vector_arm(cursor, vector, allowed, candidates, max(params.ef_search, candidates))
        if params.lexical == "ts_rank_cd":
            lexical_rows = _ts_rank_cd_arm(cursor, terms, allowed, candidates)
        else:
            lexical_rows = _bm25_arm(cursor, terms, allowed, candidates, params)
    fused = fuse(vector_rows, lexical_rows, params)[:k]
    return _hits(fused, allowed)


def query_terms(query: str, *, drop_question_words: bool = True) -> list[str]:
    """Distinct SudachiPy tokens of the question, in order, without question words."""
    seen: dict[str, None] = {}
    for token in lexical_tokens(query):
        if drop_question_words and token in QUESTION_WORDS:
            continue
        seen.setdefault(token, None)
    return list(seen)[:MAX_QUERY_TERMS]


# --------------------------------------------------------------------------- vector arm


def vector_sql(dimensions: int) -> str:
    """The nearest-neighbour statement; it orders by the HNSW index's expression for ``dimensions``."""
    dims = int(dimensions)  # an int: nothing from the request reaches the statement's text
    return (
        "WITH nearest AS MATERIALIZED ("  # noqa: S608
        f" SELECT c.id, {embedding_expression(dims, 'c.embedding')} <=> %s::vector({dims}) AS distance"
        " FROM rag_chunk c"
        " WHERE c.collection_id = ANY(%s) AND c.embedding IS NOT NULL"
        " ORDER BY distance LIMIT %s"
        # NULL distance: a passage of another size (a move to another model not finished); sorted last, dropped.
        ") SELECT id, distance FROM nearest WHERE distance IS NOT NULL ORDER BY distance, id"
    )


def vector_literal(vector: Sequence[float]) -> str:
    return "[" + ",".join(repr(float(value)) for value in vector) + "]"


def _vector_arm(cursor, vector: Sequence[float], allowed: list[int], limit: int, ef_search: int) -> list[tuple]:
    # Transaction-local, so a pooled connection goes back with pgvector's defaults.
    cursor.execute(
        "SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true), set_config('hnsw.ef_search', %s, true)",
        [str(int(ef_search))],
    )
    cursor.execute(vector_sql(len(vector)), [vector_literal(vector), allowed, limit])
    rows = cursor.fetchall()
    return [(chunk_id, 1.0 - float(distance)) for chunk_id, distance in rows]


# --------------------------------------------------------------------------- lexical arm


def tsquery_literal(lexemes: Sequence[str], operator: str = " | ") -> str:
    """``'a' | 'b'`` in tsquery syntax; quoted lexemes are taken as they are (no parsing, no dictionary)."""
    return operator.join("'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'" for lexeme in lexemes)


def _ts_rank_cd_arm(cursor, terms: list[str], allowed: list[int], limit: int) -> list[tuple]:
    if not terms:
        return []
    cursor.execute(
        "SELECT c.id, ts_rank_cd(c.lexical, q) AS score"
        " FROM rag_chunk c, to_tsquery('simple', %s) AS q"
        " WHERE c.collection_id = ANY(%s) AND c.lexical @@ q"
        " ORDER BY score DESC, c.id LIMIT %s",
        # Each token quoted: to_tsquery then splits it the way to_tsvector split it at indexing.
        [tsquery_literal(terms), allowed, limit],
    )
    return [(chunk_id, float(score)) for chunk_id, score in cursor.fetchall()]


logger = logging.getLogger(__name__)
DF_CACHE_SECONDS = 6 * 3600


def _collection_signatures(cursor, allowed: list[int]) -> dict[int, str]:
    """What identifies a collection's passages: the table (a recreated schema gets a new one), the newest passage
    (any insert or re-ingestion makes a newer one) and the number of passages (any deletion lowers it)."""
    cursor.execute(
        "SELECT c.id, 'rag_chunk'::regclass::oid,"
        " (SELECT max(k.id) FROM rag_chunk k WHERE k.collection_id = c.id),"
        " (SELECT coalesce(sum(d.chunk_count), 0) FROM rag_document d WHERE d.collection_id = c.id)"
        " FROM unnest(%s::bigint[]) AS c(id)",
        [allowed],
    )
    return {cid: f"{oid}:{newest or 0}:{total}" for cid, oid, newest, total in cursor.fetchall()}


def _df_key(collection_id: int, signature: str, lexeme: str) -> str:
    digest = hashlib.blake2b(lexeme.encode(), digest_size=12).hexdigest()
    return f"rag-df:{collection_id}:{signature}:{digest}"


def document_frequencies(cursor, terms: list[str], allowed: list[int]) -> list[tuple[str, int]]:
    """The query's lexemes, exactly as to_tsvector('simple') made them at indexing, with their document frequency
    among the passages of the collections this user may read.

    Counting a common lexeme over 100,000 passages takes tens of milliseconds (GIN bitmap), and common lexemes
    recur in almost every question, so counts are cached per collection under a signature that changes whenever
    the collection's passages do: the figures are always those of the current passages, never an estimate.
    """
    cursor.execute("SELECT tsvector_to_array(to_tsvector('simple', %s))", [" ".join(terms)])
    lexemes = list(cursor.fetchone()[0] or [])
    if not lexemes or not allowed:
        return [(lexeme, 0) for lexeme in lexemes]
    signatures = _collection_signatures(cursor, allowed)
    keys = {(cid, lexeme): _df_key(cid, signature, lexeme)
            for cid, signature in signatures.items() for lexeme in lexemes}
    try:
        cached = cache.get_many(list(keys.values()))
    except Exception:  # the cache is an optimisation: without Redis, count in PostgreSQL
        logger.warning("document frequency cache unavailable", exc_info=True)
        cached = {}
    counts = {pair: cached[key] for pair, key in keys.items() if key in cached}
    missing = sorted({lexeme for (_, lexeme), key in keys.items() if key not in cached})
    if missing:
        cursor.execute(
            "SELECT u.lexeme, c.collection_id, count(*) FROM unnest(%s::text[]) AS u(lexeme)"
            " JOIN rag_chunk c ON c.collection_id = ANY(%s) AND c.lexical @@ quote_literal(u.lexeme)::tsquery"
            " GROUP BY u.lexeme, c.collection_id",
            [missing, allowed],
        )
        fresh = {(cid, lexeme): 0 for cid in signatures for lexeme in missing}
        for lexeme, cid, count in cursor.fetchall():
            fresh[(cid, lexeme)] = int(count)
        counts.update(fresh)
        try:
            cache.set_many({keys[pair]: count for pair, count in fresh.items()}, DF_CACHE_SECONDS)
        except Exception:
            logger.warning("document frequency cache unavailable", exc_info=True)
    totals: dict[str, int] = {}
    for (_, lexeme), count in counts.items():
        totals[lexeme] = totals.get(lexeme, 0) + count
    return [(lexeme, totals.get(lexeme, 0)) for lexeme in lexemes]


def _bm25_arm(cursor, terms: list[str], allowed: list[int], limit: int, params: RetrievalParams) -> list[tuple]:
    if not terms:
        return []
    frequencies = [(lexeme, df) for lexeme, df in document_frequencies(cursor, terms, allowed) if df]
    if not frequencies:
        return []
    cursor.execute("SELECT coalesce(sum(chunk_count), 0) FROM rag_document WHERE collection_id = ANY(%s)", [allowed])
    total = max(int(cursor.fetchone()[0]), max(df for _, df in frequencies))
    weights = {lexeme: math.log(1 + (total - df + 0.5) / (df + 0.5)) for lexeme, df in frequencies}
    # Candidates: passages with at least one of the rarest terms, as many terms as the budget allows (at least
    # one). Passages holding only the commonest terms would score near zero anyway.
    chosen: list[str] = []
    work = 0
    for lexeme, df in sorted(frequencies, key=lambda item: item[1]):
        if chosen and work + df > params.lexical_budget:
            break
        chosen.append(lexeme)
        work += df
    k1, b = params.bm25_k1, params.bm25_b
    cursor.execute(
        "WITH w(lexeme, idf) AS (SELECT * FROM unnest(%s::text[], %s::float8[])),"
        # Each candidate keeps only the query's lexemes (indexing gives every lexeme weight D; setweight marks the
        # query's as A and ts_filter keeps those), so the join below unnests a few entries per passage instead
        # of the whole passage: the same term frequencies, a fraction of the rows.
        " cand AS MATERIALIZED ("
        "  SELECT c.id, ts_filter(setweight(c.lexical, 'A', %s::text[]), '{a}') AS hits,"
        "   char_length(c.text)::float8 AS dl FROM rag_chunk c"
        "  WHERE c.collection_id = ANY(%s) AND c.lexical @@ %s::tsquery),"
        " avgdl AS (SELECT greatest(avg(dl), 1.0) AS v FROM cand)"
        " SELECT cand.id, sum(w.idf * tf.n * %s / (tf.n + %s * (1 - %s + %s * cand.dl / avgdl.v))) AS score"
        " FROM cand CROSS JOIN avgdl"
        " CROSS JOIN LATERAL unnest(cand.hits) AS u(lexeme, positions, weights)"
        " CROSS JOIN LATERAL (SELECT coalesce(cardinality(u.positions), 1)::float8 AS n) AS tf"
        " JOIN w ON w.lexeme = u.lexeme"
        " GROUP BY cand.id ORDER BY score DESC, cand.id LIMIT %s",
        [list(weights), list(weights.values()), list(weights), allowed, tsquery_literal(chosen), k1 + 1, k1, b, b,
         limit],
    )
    return [(chunk_id, float(score)) for chunk_id, score in cursor.fetchall()]


# --------------------------------------------------------------------------- fusion and results


@dataclass
class _Fused:
    chunk_id: int
    score: float = 0.0
    vector_score: float | None = None
    lexical_score: float | None = None
    vector_rank: int | None = None
    lexical_rank: int | None = None


def fuse(vector_rows: list[tuple], lexical_rows: list[tuple], params: RetrievalParams = DEFAULT_PARAMS) -> list[_Fused]:
    """Fuse two ranked lists of (chunk id, score), best first, as ``params.fusion`` says."""
    fused: dict[int, _Fused] = {}
    for rank, (chunk_id, score) in enumerate(vector_rows, start=1):
        item = fused.setdefault(chunk_id, _Fused(chunk_id))
        item.vector_score, item.vector_rank = score, rank
    for rank, (chunk_id, score) in enumerate(lexical_rows, start=1):
        item = fused.setdefault(chunk_id, _Fused(chunk_id))
        item.lexical_score, item.lexical_rank = score, rank
    wv, wl = params.vector_weight, params.lexical_weight
    if params.fusion == "rrf":
        for item in fused.values():
            item.score = (wv / (params.rrf_k + item.vector_rank) if item.vector_rank else 0.0) + (
                wl / (params.rrf_k + item.lexical_rank) if item.lexical_rank else 0.0
            )
    else:
        vector_norm, lexical_norm = _min_max(vector_rows), _min_max(lexical_rows)
        total = (wv + wl) or 1.0
        for item in fused.values():
            item.score = (wv * vector_norm.get(item.chunk_id, 0.0) + wl * lexical_norm.get(item.chunk_id, 0.0)) / total
    # Ties: the vector arm's order, then the lexical arm's, then the id, so results are stable.
    return sorted(
        fused.values(),
        key=lambda item: (-item.score, item.vector_rank or math.inf, item.lexical_rank or math.inf, item.chunk_id),
    )


def _min_max(rows: list[tuple]) -> dict[int, float]:
    if not rows:
        return {}
    scores = [score for _, score in rows]
    high, low = max(scores), min(scores)
    if high <= low:
        return {chunk_id: 1.0 for chunk_id, _ in rows}
    return {chunk_id: (score - low) / (high - low) for chunk_id, score in rows}


def _hits(fused: list[_Fused], allowed: list[int]) -> list[Hit]:
    ids = [item.chunk_id for item in fused]
    # The access filter again: a chunk moved to another collection between the statements is not returned.
    chunks = {
        chunk.pk: chunk
        for chunk in Chunk.objects.filter(pk__in=ids, collection_id__in=allowed)
        .select_related("document")
        .only(
            "id", "collection_id", "ordinal", "text", "heading_path", "page", "slide", "sheet", "cells",
            "document__id", "document__title", "document__original_name", "document__url", "document__final_url",
            "document__source",
        )
    }
    hits: list[Hit] = []
    for item in fused:
        chunk = chunks.get(item.chunk_id)
        if chunk is None:
            continue
        hits.append(Hit(
            chunk_id=chunk.pk,
            document_id=chunk.document_id,
            document_title=chunk.document.title,
            source=document_source(chunk.document),
            collection_id=chunk.collection_id,
            text=chunk.text,
            ordinal=chunk.ordinal,
            heading_path=list(chunk.heading_path or []),
            page=chunk.page,
            slide=chunk.slide,
            sheet=chunk.sheet,
            cells=chunk.cells,
            vector_score=item.vector_score,
            lexical_score=item.lexical_score,
            vector_rank=item.vector_rank,
            lexical_rank=item.lexical_rank,
            fused_score=item.score,
            rank=len(hits) + 1,
        ))
    return hits


def document_source(document: Document) -> str:
    if document.source == Document.Source.URL:
        return document.final_url or document.url
    return document.original_name or document.title


def with_params(**changes) -> RetrievalParams:
    """DEFAULT_PARAMS with some fields changed (benchmarks, the diagnostics page)."""
    return replace(DEFAULT_PARAMS, **changes)
