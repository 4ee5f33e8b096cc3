"""The HNSW index on chunk embeddings, for the deployment's embedding size.

``Chunk.embedding`` has no fixed size (deployments differ), and pgvector indexes only vectors of one size, so
the index is on an expression, ``embedding::vector(N)`` for rows of that size (``rag.indexing.embedding_expression``),
N being ``llm.embeddings.embedding_dimensions()`` when the schema is migrated (384 for the embedded
multilingual-e5-small, 1536 for text-embedding-3-small).
``rag.retrieval`` orders by the same expression, and ``manage.py rag_reembed`` rebuilds the index when a
municipality moves to a model of another size. This runs in every municipality's schema (rag is a tenant app).

pgvector itself must exist before 0001 (whose column has its ``vector`` type): the embedded PostgreSQL creates
it in ``public``, and production creates it there once (operations guide; ``CREATE EXTENSION vector`` needs a
privileged role on most managed services). The check below only creates it, in ``public``, when it is missing
and this role may; when it is present nothing is executed, so an unprivileged role migrates fine.
"""

from django.db import migrations

INDEX_NAME = "rag_chunk_embedding_hnsw"


def ensure_vector_extension(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'")
        if cursor.fetchone() is None:
            # In public, which every tenant connection has on its search_path, never in the tenant's schema.
            cursor.execute("CREATE EXTENSION IF NOT EXISTS vector SCHEMA public")


def create_index(apps, schema_editor):
    from rag.indexing import create_embedding_index

    create_embedding_index(schema_editor.connection)


def drop_index(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX_NAME}")


class Migration(migrations.Migration):

    dependencies = [
        ("rag", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(ensure_vector_extension, migrations.RunPython.noop),
        migrations.RunPython(create_index, drop_index),
    ]
