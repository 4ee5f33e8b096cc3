"""pgvector in the public schema, before any municipality's schema is created.

The public schema migrates first (tenants is a shared app), so a fresh database has the ``vector`` type on every
tenant's search path before ``rag`` 0001 creates its first embedding column. Nothing runs when the extension
exists, so a role that may not create extensions migrates fine where the operator created it beforehand
(operations guide).
"""

from django.db import migrations


def ensure_vector_extension(apps, schema_editor):
    if schema_editor.connection.schema_name != "public":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'")
        if cursor.fetchone() is None:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS vector SCHEMA public")


class Migration(migrations.Migration):

    dependencies = [
        ("tenants", "0004_operator_console"),
    ]

    operations = [
        migrations.RunPython(ensure_vector_extension, migrations.RunPython.noop),
    ]
