"""Pass 2 of an import: an archive's members loaded into the new, freshly migrated schema.

Runs inside the import's single transaction. The rows the migrations seeded are truncated, indexes that back
no constraint are dropped and built again at the end (as pg_restore does), each table is loaded with
``COPY ... FROM STDIN`` straight from the archive stream, its row count and checksum checked against the
manifest. Content types and permissions are this deployment's own (ids may differ between deployments): the
archive's are read into temporary tables only to translate the permission ids that group and user rows carry.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from django.conf import settings
from psycopg import sql

from tenants.archive import manifest as m
from tenants.archive import schema as s

REMAPPED = {"django_content_type": "_akagi_map_ct", "auth_permission": "_akagi_map_perm"}


class Loader:
    """Loads one archive's members into the current (new) schema; remembers the files it wrote."""

    def __init__(self, manifest: m.Manifest, schema: str, cursor):
        self.manifest, self.schema, self.cursor = manifest, schema, cursor
        self.media_root = Path(settings.MEDIA_ROOT).resolve()
        self.by_member = {t.member: t for t in manifest.tables}
        self.media = {e.member: e for e in manifest.media}
        self.loaded: set[str] = set()
        self.written: list[Path] = []
        self.created_dirs: list[Path] = []
        self.dropped_rows = 0
        self.remaps: dict[str, list[tuple[str, str]]] = {}
        self.index_definitions: list[str] = []

    def prepare(self) -> None:
        cursor, schema = self.cursor, self.schema
        here = [t for t in s.schema_tables(cursor, schema) if t not in s.EXCLUDED_TABLES]
        columns = s.table_columns(cursor, schema)
        theirs = {t.name: t for t in self.manifest.tables}
        if set(here) != set(theirs) or any(set(columns[t]) != set(theirs[t].columns) for t in here):
            raise m.ArchiveError("アーカイブの表の構成がこの環境の構成と一致しません。書き出し元と取り込み先の "
                                 "Akagi を同じ版にそろえてから書き出し直してください。")
        for target, map_table in REMAPPED.items():
            for table, column in s.references_to(cursor, schema, target):
                if table not in REMAPPED:
                    self.remaps.setdefault(table, []).append((column, map_table))
        data = [t.name for t in self.manifest.tables if t.role == "data"]
        # Migrations ran just now in this transaction; their deferred key checks must fire before TRUNCATE.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY").format(
            sql.SQL(", ").join(s.qualified(schema, t) for t in data)))
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        self.index_definitions = s.drop_secondary_indexes(cursor, schema, data)

    def member(self, name: str, fileobj) -> None:
        reader = m.HashingReader(fileobj)
        if name in self.by_member:
            self._table(self.by_member[name], reader)
        elif name in self.media:
            self._file(self.media[name], reader)
        else:
            m.read_limited(reader)  # the header, the manifest and public/*.json were read in pass 1
        found = {"sha256": reader.hexdigest(), "size": reader.size}
        if name != m.MANIFEST_MEMBER and self.manifest.files.get(name) != found:
            raise m.ArchiveError(f"取り込み中にアーカイブの内容が変わりました（{name[:100]}）。"
                                 "取り込みを取り消しました。ファイルを置き直してからもう一度取り込んでください。")

    def _copy_in(self, target: sql.Composable, entry: m.TableEntry, reader) -> int:
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(target, s.column_list(entry.columns))
        try:
            with self.cursor.copy(statement) as copy:
                while chunk := reader.read(m.CHUNK):
                    copy.write(chunk)
        except m.ArchiveError:
            raise
        except Exception as exc:
            raise m.ArchiveError(f"表 {entry.name} のデータを取り込めませんでした（{str(exc).splitlines()[0][:200]}）。"
                                 "取り込みを取り消し、何も作成していません。") from exc
        return self.cursor.rowcount

    def _table(self, entry: m.TableEntry, reader) -> None:
        cursor, schema = self.cursor, self.schema
        if entry.role == "reference":
            temp = sql.Identifier(f"_akagi_src_{entry.name}")
            cursor.execute(sql.SQL("DROP TABLE IF EXISTS pg_temp.{}").format(temp))
            cursor.execute(sql.SQL("CREATE TEMP TABLE {} (LIKE {})").format(temp, s.qualified(schema, entry.name)))
            rows = self._copy_in(sql.SQL("pg_temp.{}").format(temp), entry, reader)
            self._build_map(entry.name)
        elif entry.name in self.remaps:
            stage = sql.Identifier("_akagi_stage")
            cursor.execute(sql.SQL("DROP TABLE IF EXISTS pg_temp.{}").format(stage))
            cursor.execute(sql.SQL("CREATE TEMP TABLE {} (LIKE {})").format(stage, s.qualified(schema, entry.name)))
            rows = self._copy_in(sql.SQL("pg_temp.{}").format(stage), entry, reader)
            remapped = dict(self.remaps[entry.name])
            joins, conditions, values = [], [], []
            for n, column in enumerate(entry.columns):
                if column in remapped:
                    alias = sql.Identifier(f"m{n}")
                    joins.append(sql.SQL("LEFT JOIN pg_temp.{} {} ON {}.old_id = s.{}").format(
                        sql.Identifier(remapped[column]), alias, alias, sql.Identifier(column)))
                    conditions.append(sql.SQL("(s.{} IS NULL OR {}.new_id IS NOT NULL)").format(
                        sql.Identifier(column), alias))
                    values.append(sql.SQL("{}.new_id").format(alias))
                else:
                    values.append(sql.SQL("s.{}").format(sql.Identifier(column)))
            cursor.execute(sql.SQL("INSERT INTO {} ({}) SELECT {} FROM pg_temp.{} s {} WHERE {}").format(
                s.qualified(schema, entry.name), s.column_list(entry.columns), sql.SQL(", ").join(values),
                stage, sql.SQL(" ").join(joins), sql.SQL(" AND ").join(conditions)))
            self.dropped_rows += rows - cursor.rowcount
            cursor.execute(sql.SQL("DROP TABLE pg_temp.{}").format(stage))
        else:
            rows = self._copy_in(s.qualified(schema, entry.name), entry, reader)
        if rows != entry.rows:
            raise m.ArchiveError(f"表 {entry.name} の件数が目録と一致しません（目録 {entry.rows} 件、実際 {rows} 件）。"
                                 "アーカイブが書き換えられています。取り込みを取り消しました。")
        self.loaded.add(entry.name)

    def _build_map(self, table: str) -> None:
        cursor, target = self.cursor, s.qualified(self.schema, table)
        if table == "django_content_type":
            cursor.execute(sql.SQL(
                "CREATE TEMP TABLE _akagi_map_ct AS SELECT s.id AS old_id, t.id AS new_id "
                "FROM pg_temp._akagi_src_django_content_type s JOIN {} t "
                "ON t.app_label = s.app_label AND t.model = s.model").format(target))
        elif table == "auth_permission":
            if "django_content_type" not in self.loaded:
                raise m.ArchiveError("アーカイブの表の順序が正しくありません。"
                                     "Akagi が書き出したアーカイブではありません。")
            cursor.execute(sql.SQL(
                "CREATE TEMP TABLE _akagi_map_perm AS SELECT s.id AS old_id, t.id AS new_id "
                "FROM pg_temp._akagi_src_auth_permission s "
                "JOIN pg_temp._akagi_map_ct c ON c.old_id = s.content_type_id "
                "JOIN {} t ON t.content_type_id = c.new_id AND t.codename = s.codename").format(target))

    def _file(self, entry: m.MediaEntry, reader) -> None:
        relative = s.relocate(entry.path, self.manifest.source_schema, self.schema)
        dest = self.media_root / relative
        folder = (self.media_root / relative.split("/")[0] / self.schema).resolve()
        if not dest.resolve().is_relative_to(folder):
            raise m.ArchiveError(f"アーカイブのファイル {entry.path[:100]} は取り込めない場所を指しています。")
        if folder not in self.created_dirs and not folder.exists():
            self.created_dirs.append(folder)  # new, so everything in it is ours to remove if the import fails
        dest.parent.mkdir(parents=True, exist_ok=True)
        temp = dest.with_name(dest.name + ".importing")
        self.written.append(temp)
        with open(temp, "wb") as out:
            while chunk := reader.read(m.CHUNK):
                out.write(chunk)
        temp.replace(dest)
        self.written.append(dest)

    def finish(self) -> int:
        missing = {t.name for t in self.manifest.tables} - self.loaded
        if missing:
            raise m.ArchiveError("アーカイブに目録の表が欠けています。取り込みを取り消しました。")
        cursor, schema = self.cursor, self.schema
        data = [t.name for t in self.manifest.tables if t.role == "data"]
        s.reset_sequences(cursor, schema, data)
        cleared = s.rewrite_file_paths(cursor, schema, self.manifest.source_schema)
        for name in ("_akagi_src_django_content_type", "_akagi_src_auth_permission", "_akagi_map_ct",
                     "_akagi_map_perm"):
            cursor.execute(sql.SQL("DROP TABLE IF EXISTS pg_temp.{}").format(sql.Identifier(name)))
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # a broken reference fails here, inside the transaction
        for definition in self.index_definitions:
            cursor.execute(definition)
        for table in (t.name for t in self.manifest.tables if t.role == "data" and t.rows >= 1000):
            cursor.execute(sql.SQL("ANALYZE {}").format(s.qualified(schema, table)))
        return cleared

    def remove_files(self) -> None:
        for path in self.written:
            path.unlink(missing_ok=True)
        for folder in reversed(self.created_dirs):
            shutil.rmtree(folder, ignore_errors=True)
