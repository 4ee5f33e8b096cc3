"""``manage.py rag_ingest``: the name the operations guide and the evaluation use; same as ``rag_ingest_dir``.

  python manage.py rag_ingest --tenant SLUG --collection NAME DIR
"""

from rag.management.commands.rag_ingest_dir import Command as IngestDirectory


class Command(IngestDirectory):
    help = "ディレクトリ内のファイルをナレッジのコレクションに取り込みます（評価・一括登録用。rag_ingest_dir と同じ）。"
