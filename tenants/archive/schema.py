"""What the archive reads from and writes to a municipality's schema, found from the database itself.

Tables and columns come from the catalogue (not from the models), so a table added by a later migration is
carried without a change here; the migration state in the manifest makes sure both ends have the same tables.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from psycopg import sql

# Rows that belong to the deployment rather than to the municipality: which migrations ran, and log-ins
# (a session is tied to the deployment's secret key and host; staff simply log in again).
EXCLUDED_TABLES = frozenset({"django_migrations", "django_session"})
# Rows every new schema gets from its own migrations; their ids may differ between deployments, so they are not
# loaded but used to translate the ids that group and user permissions point to.
REFERENCE_TABLES = ("django_content_type", "auth_permission")


@dataclass(frozen=True)
class FileColumn:
    """A column holding a path under MEDIA_ROOT of the form ``<area>/<schema>/...``."""

    model: str
    field: str

    @property
    def table(self) -> str:
        return apps.get_model(self.model)._meta.db_table

    @property
    def column(self) -> str:
        return apps.get_model(self.model)._meta.get_field(self.field).column


# Every column of a tenant app that names a file. tests/tenants/test_archive_roundtrip.py checks that each
# FileField of a tenant app is listed here, so a new kind of upload is not silently left behind.
FILE_COLUMNS = (
    FileColumn("rag.Document", "file"),
    FileColumn("training.TipImage", "file_path"),
    FileColumn("audit.ExportJob", "file_path"),
)


def qualified(schema: str, table: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))


def column_list(columns: list[str]) -> sql.Composed:
    return sql.SQL(", ").join(sql.Identifier(c) for c in columns)


# --------------------------------------------------------------------------- migration state


def tenant_app_labels() -> list[str]:
    labels = []
    for name in settings.TENANT_APPS:
        config = next((c for c in apps.get_app_configs() if c.name == name), None)
        if config is not None:
            labels.append(config.label)
    return sorted(set(labels))


def code_migration_state() -> dict[str, list[str]]:
    """The newest migration of each tenant app in this deployment's code: what a new schema is migrated to."""
    from django.db.migrations.loader import MigrationLoader

    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    return {label: sorted(name for _, name in graph.leaf_nodes(label)) for label in tenant_app_labels()}


def unapplied_in_current_schema(state: dict[str, list[str]]) -> list[str]:
    """The migrations of ``state`` the current schema has not run (squashed migrations are understood)."""
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    applied = MigrationLoader(connection, ignore_no_migrations=True).applied_migrations
    return [f"{app}.{name}" for app, names in state.items() for name in names if (app, name) not in applied]


# --------------------------------------------------------------------------- tables


def schema_tables(cursor, schema: str) -> list[str]:
    """Every ordinary table of the schema, referenced tables before the tables that point to them."""
    cursor.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND NOT c.relispartition",
        [schema],
    )
    names = sorted(row[0] for row in cursor.fetchall())
    cursor.execute(
        "SELECT src.relname, dst.relname FROM pg_constraint k "
        "JOIN pg_class src ON src.oid = k.conrelid JOIN pg_namespace sn ON sn.oid = src.relnamespace "
        "JOIN pg_class dst ON dst.oid = k.confrelid JOIN pg_namespace dn ON dn.oid = dst.relnamespace "
        "WHERE k.contype = 'f' AND sn.nspname = %s AND dn.nspname = %s",
        [schema, schema],
    )
    depends: dict[str, set[str]] = defaultdict(set)
    for src, dst in cursor.fetchall():
        if src != dst:
            depends[src].add(dst)
    ordered: list[str] = []
    done: set[str] = set()
    remaining = list(names)
    while remaining:
        ready = [t for t in remaining if depends[t] <= done]
        if not ready:  # a cycle: Django's foreign keys are deferred, so any order loads
            ready = remaining[:1]
        for table in ready:
            ordered.append(table)
            done.add(table)
        remaining = [t for t in remaining if t not in done]
    return ordered


def table_columns(cursor, schema: str) -> dict[str, list[str]]:
    """Each table's columns in order, without generated columns (the database computes those)."""
    cursor.execute(
        "SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped "
        "AND a.attgenerated = '' ORDER BY c.relname, a.attnum",
        [schema],
    )
    columns: dict[str, list[str]] = defaultdict(list)
    for table, column in cursor.fetchall():
        columns[table].append(column)
    return dict(columns)


def reset_sequences(cursor, schema: str, tables: list[str]) -> None:
    """Point every id sequence past the largest id loaded, so the next row gets a fresh id."""
    cursor.execute(
        "SELECT c.relname, a.attname, pg_get_serial_sequence(format('%%I.%%I', n.nspname, c.relname), a.attname) "
        "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped "
        "AND c.relname = ANY(%s)",
        [schema, tables],
    )
    for table, column, sequence in cursor.fetchall():
        if sequence is None:
            continue
        cursor.execute(
            sql.SQL("SELECT setval(%s, COALESCE((SELECT MAX({}) FROM {}), 0) + 1, false)").format(
                sql.Identifier(column), qualified(schema, table)),
            [sequence],
        )


def references_to(cursor, schema: str, table: str) -> list[tuple[str, str]]:
    """(table, column) of every single-column foreign key in the schema that points to ``table``."""
    cursor.execute(
        "SELECT src.relname, a.attname FROM pg_constraint k "
        "JOIN pg_class src ON src.oid = k.conrelid JOIN pg_namespace sn ON sn.oid = src.relnamespace "
        "JOIN pg_class dst ON dst.oid = k.confrelid "
        "JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1] "
        "WHERE k.contype = 'f' AND sn.nspname = %s AND dst.relnamespace = sn.oid AND dst.relname = %s "
        "AND array_length(k.conkey, 1) = 1",
        [schema, table],
    )
    return [(src, column) for src, column in cursor.fetchall()]


# --------------------------------------------------------------------------- file paths


def relocate(path: str, source_schema: str, target_schema: str) -> str:
    """``<area>/<source schema>/rest`` -> ``<area>/<target schema>/rest``: each municipality's files stay apart."""
    parts = path.split("/")
    if len(parts) < 3 or parts[1] != source_schema:
        raise ValueError(path)
    parts[1] = target_schema
    return "/".join(parts)


def file_paths(cursor, schema: str) -> tuple[list[str], list[str]]:
    """(paths under this schema's folders, paths elsewhere) named by the file columns of the current schema."""
    inside, outside = set(), set()
    for fc in FILE_COLUMNS:
        cursor.execute(
            sql.SQL("SELECT DISTINCT {c} FROM {t} WHERE {c} <> ''").format(
                c=sql.Identifier(fc.column), t=qualified(schema, fc.table))
        )
        for (path,) in cursor.fetchall():
            parts = path.split("/")
            (inside if len(parts) >= 3 and parts[1] == schema else outside).add(path)
    return sorted(inside), sorted(outside)


def rewrite_file_paths(cursor, schema: str, source_schema: str) -> int:
    """Point the loaded rows at the new schema's folders; returns how many paths led elsewhere and were cleared.

    A path outside the source schema's folders would name another municipality's file in this deployment,
    so it is cleared rather than kept.
    """
    cleared = 0
    for fc in FILE_COLUMNS:
        column, table = sql.Identifier(fc.column), qualified(schema, fc.table)
        if schema != source_schema:
            cursor.execute(
                sql.SQL("UPDATE {t} SET {c} = split_part({c}, '/', 1) || '/' || %s || "
                        "substr({c}, length(split_part({c}, '/', 1)) + length(%s) + 2) "
                        "WHERE split_part({c}, '/', 2) = %s AND split_part({c}, '/', 3) <> ''").format(
                    t=table, c=column),
                [schema, source_schema, source_schema],
            )
        cursor.execute(
            sql.SQL("UPDATE {t} SET {c} = '' WHERE {c} <> '' AND (split_part({c}, '/', 2) <> %s "
                    "OR split_part({c}, '/', 3) = '' OR {c} LIKE '%%..%%')").format(t=table, c=column),
            [schema],
        )
        cleared += cursor.rowcount
    return cleared


def drop_secondary_indexes(cursor, schema: str, tables: list[str]) -> list[str]:
    """Drop the indexes that back no constraint (the HNSW and lexical indexes, foreign-key lookups) and return
    their definitions: building an index once after a bulk load is far cheaper than updating it row by row,
    which is how pg_restore loads too. Primary keys and unique constraints stay and keep checking."""
    cursor.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = ANY(%s) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
        [schema, tables],
    )
    indexes = cursor.fetchall()
    for name, _ in indexes:
        cursor.execute(sql.SQL("DROP INDEX {}").format(sql.SQL(name)))  # regclass text: already quoted
    return [definition for _, definition in indexes]
