"""Search a municipality's knowledge bases with the same code as chat, reading questions as JSON lines.

  python manage.py rag_search --tenant SLUG [--user STAFF_NUMBER] [--collection NAME ...] [--k 10] < q.jsonl

Input lines: ``{"id": ..., "question": ...}`` (other keys, such as make_corpus.py's ``gold``, are ignored).
Output lines: ``{"id", "hits": [{"source", "score", "chunk_id", "position", "document_id", "title",
"vector_score", "lexical_score"}]}``, best first, what ../shared/tools/score_retrieval.py reads.
Searches as ``--user`` (default: the first active administrator), with that user's access.
"""

from __future__ import annotations

import json
import sys
import time

from django.core.management.base import BaseCommand, CommandError

from rag.management.commands._common import get_tenant, get_user


class Command(BaseCommand):
    help = "質問（JSON Lines）ごとに、ナレッジを検索した結果を JSON Lines で出力します。"

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="利用団体の識別子（slug）")
        parser.add_argument("--user", help="この職員番号の利用者の権限で検索（省略時は最初の管理者）")
        parser.add_argument("--collection", action="append", default=[],
                            help="検索するコレクション名（複数可。省略時は利用者が使えるすべて）")
        parser.add_argument("--k", type=int, default=10, help="質問ごとの件数（既定 10）")
        parser.add_argument("--input", help="質問のファイル（省略時は標準入力）")
        parser.add_argument("--candidates", type=int, help="各方式から融合前に取る件数")
        parser.add_argument("--rrf-k", type=int, help="RRF の k")
        parser.add_argument("--ef-search", type=int, help="hnsw.ef_search")
        parser.add_argument("--lexical", choices=["bm25", "ts_rank_cd"], help="語彙検索の順位付け")

    def handle(self, *args, **options):
        from tenants.crossing import in_tenant

        with in_tenant(get_tenant(options["tenant"])):
            self._run(options)

    def _run(self, options) -> None:
        from rag.queries import readable_collections
        from rag.retrieval import search, with_params

        user = get_user(options["user"])
        collection_ids = None
        if options["collection"]:
            readable = dict(readable_collections(user).values_list("name", "pk"))
            missing = [name for name in options["collection"] if name not in readable]
            if missing:
                raise CommandError(f"コレクションが見つからないか、この利用者は使えません: {', '.join(missing)}")
            collection_ids = [readable[name] for name in options["collection"]]
        changes = {key: options[option] for key, option in (
            ("candidates", "candidates"), ("rrf_k", "rrf_k"), ("ef_search", "ef_search"), ("lexical", "lexical"),
        ) if options[option] is not None}
        params = with_params(**changes)

        source = open(options["input"], encoding="utf-8") if options["input"] else sys.stdin  # noqa: SIM115
        started, count = time.monotonic(), 0
        try:
            for number, line in enumerate(source, start=1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                    query_id, question = item["id"], str(item["question"])
                except (json.JSONDecodeError, KeyError, TypeError) as exc:
                    message = f"{number} 行目が {{\"id\", \"question\"}} の JSON ではありません（{exc}）"
                    raise CommandError(message) from exc
                hits = search(user, question, collection_ids=collection_ids, k=options["k"], params=params)
                self.stdout.write(json.dumps({"id": query_id, "hits": [hit_json(hit) for hit in hits]},
                                             ensure_ascii=False))
                count += 1
        finally:
            if source is not sys.stdin:
                source.close()
        elapsed = time.monotonic() - started
        per_query = elapsed / max(count, 1) * 1000
        self.stderr.write(f"{count} 件の質問を検索しました（{elapsed:.1f} 秒、1件あたり {per_query:.0f} ms）。")


def hit_json(hit) -> dict:
    return {
        "source": hit.source,
        "score": round(hit.fused_score, 6),
        "chunk_id": hit.chunk_id,
        "position": hit.position,
        "document_id": hit.document_id,
        "title": hit.document_title,
        "vector_score": None if hit.vector_score is None else round(hit.vector_score, 6),
        "lexical_score": None if hit.lexical_score is None else round(hit.lexical_score, 6),
    }
