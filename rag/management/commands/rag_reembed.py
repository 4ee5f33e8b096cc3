"""Move a municipality's passages to the deployment's current embedding model.

  python manage.py rag_reembed --tenant SLUG [--force]

Re-embeds the chunks of every document whose ``embedding_model`` is not the current one (all with ``--force``),
document by document, each in its own transaction, printing progress. When the new model has another size,
the HNSW index is dropped first (a vector of another size cannot be written under it) and built again at the
end for the new size. Safe to interrupt and run again: finished documents are skipped, and the index is built
once every document is done. Texts, positions and the lexical index are unchanged.

While it runs, searches still work: the lexical arm as usual, the vector arm over the documents already moved
(passages of another size are skipped; of the same size they are compared as they are until re-embedded).
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from rag.management.commands._common import get_tenant


class Command(BaseCommand):
    help = "利用団体のナレッジを、現在の埋め込みモデルで埋め込み直し、ベクトル索引を作り直します。"

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="利用団体の識別子（slug）")
        parser.add_argument("--force", action="store_true", help="現在のモデルで埋め込み済みの文書もやり直す")

    def handle(self, *args, **options):
        from tenants.crossing import in_tenant

        with in_tenant(get_tenant(options["tenant"])):
            self._run(force=options["force"])

    def _run(self, *, force: bool) -> None:
        from llm.embeddings import embedding_dimensions, embedding_model_name
        from rag.indexing import (
            create_embedding_index,
            drop_embedding_index,
            embedding_index_dimensions,
            reembed_document,
        )
        from rag.models import Document

        model, dimensions = embedding_model_name(), embedding_dimensions()
        self.stdout.write(f"埋め込みモデル: {model}（{dimensions} 次元）")
        indexed = embedding_index_dimensions()
        if indexed is not None and indexed != dimensions:
            self.stdout.write(f"ベクトル索引（{indexed} 次元）を削除します。")
            drop_embedding_index()
        documents = Document.objects.filter(chunk_count__gt=0).order_by("pk")
        if not force:
            documents = documents.exclude(embedding_model=model)
        documents = list(documents.only("pk", "title"))
        total = len(documents)
        self.stdout.write(f"埋め込み直す文書: {total} 件")
        started = time.monotonic()
        passages = 0
        for number, document in enumerate(documents, start=1):
            passages += reembed_document(document)
            elapsed = time.monotonic() - started
            self.stdout.write(
                f"[{number}/{total}] {document.title[:60]}（累計 {passages} パッセージ、{elapsed:.0f} 秒）"
            )
        if embedding_index_dimensions() is None:
            self.stdout.write(f"ベクトル索引（{dimensions} 次元）を作成しています…")
            create_embedding_index(dimensions=dimensions)
        self.stdout.write(self.style.SUCCESS(f"完了しました（{total} 件、{passages} パッセージ）。"))
