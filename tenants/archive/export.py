"""Writing a municipality's environment into one archive file, in bounded memory.

Every table is read with ``COPY ... TO STDOUT`` inside one repeatable-read snapshot, so the archive is the
municipality as it was at one instant even while its staff keep working (a chunk is never archived without its
document). Each table is spooled to a temporary file beside the output (a tar member's size must be known
before its data), then streamed into the archive; files are streamed from MEDIA_ROOT. Memory stays at a few
megabytes of buffers however large the tenant is; disk needs room for the archive plus its largest table.
"""

from __future__ import annotations

import json
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from psycopg import sql

from audit.services import record
from tenants.archive import manifest as m
from tenants.archive import schema as s
from tenants.crossing import in_tenant
from tenants.models import DailyUsageSummary, MonthlyUsage, Tenant

Report = Callable[[int, str], None]
PLAN_FIELDS = ("seat_cap", "monthly_char_cap", "allowed_models", "monthly_price_cap_yen", "is_training")
COMPRESS_LEVEL = 6


def _noop(progress: int, step: str = "") -> None:
    return None


@contextmanager
def snapshot() -> Iterator[None]:
    """One consistent, read-only view of the database for the whole export."""
    if connection.in_atomic_block:
        # Already inside a transaction (a test, or a caller's own): its view is the snapshot.
        with transaction.atomic():
            yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


class _Writer:
    """Adds members to the tar, recording each one's size and SHA-256 as it is written."""

    def __init__(self, tar: tarfile.TarFile):
        self.tar = tar
        self.files: dict[str, dict[str, Any]] = {}
        self.mtime = int(time.time())

    def add(self, name: str, fileobj, size: int) -> None:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = size, self.mtime, 0o600
        reader = m.HashingReader(fileobj)
        self.tar.addfile(info, reader)
        self.files[name] = {"sha256": reader.hexdigest(), "size": reader.size}

    def add_bytes(self, name: str, data: bytes, *, listed: bool = True) -> None:
        import io

        self.add(name, io.BytesIO(data), len(data))
        if not listed:
            del self.files[name]


def _public_rows(tenant: Tenant) -> dict[str, bytes]:
    def dump(value) -> bytes:
        return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, indent=1).encode("utf-8")

    tenant = Tenant.objects.get(pk=tenant.pk)  # as of the snapshot, not as the caller last loaded it
    plan = {"name": tenant.name, "slug": tenant.slug, **{f: getattr(tenant, f) for f in PLAN_FIELDS}}
    monthly = list(MonthlyUsage.objects.filter(tenant=tenant).order_by("month").values(
        "month", "used_chars", "cost_yen", "prompts"))
    daily_fields = [f.name for f in DailyUsageSummary._meta.concrete_fields
                    if f.name not in ("id", "tenant", "computed_at")]
    daily = list(DailyUsageSummary.objects.filter(tenant=tenant).order_by("day").values(*daily_fields))
    return {m.TENANT_MEMBER: dump(plan), m.MONTHLY_USAGE_MEMBER: dump(monthly), m.DAILY_SUMMARY_MEMBER: dump(daily)}


def _embedding_model() -> str:
    try:
        from llm.embeddings import embedding_model_name

        return embedding_model_name()
    except Exception:  # a misconfigured embeddings provider must not stop an export; the name is informative
        return ""


def export_tenant(tenant: Tenant, out: Path | str, *, actor=None, actor_label: str = "",
                  report: Report | None = None) -> dict[str, Any]:
    """Write ``tenant``'s whole environment to ``out`` (.tar.gz); return figures for the operator. Audited.

    The file appears under its name only when complete (it is written as ``<out>.part`` and renamed).
    """
    report = report or _noop
    if tenant.is_public:
        raise m.ArchiveError("運営（public）は書き出せません。書き出す利用団体を選んでください。")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(out.name + ".part")
    started = time.monotonic()
    media_root = Path(settings.MEDIA_ROOT).resolve()
    schema = tenant.schema_name
    state = s.code_migration_state()
    warnings: list[str] = []
    try:
        with (snapshot(), tempfile.TemporaryDirectory(dir=out.parent, prefix=".spool-") as spool_dir,
              in_tenant(tenant), connection.cursor() as cursor):
            missing = s.unapplied_in_current_schema(state)
            if missing:
                raise m.ArchiveError(
                    f"利用団体「{tenant.slug}」のデータベースが最新の構成に更新されていません（未適用: "
                    f"{', '.join(missing[:5])}）。migrate_schemas を実行してから書き出してください。")
            tables = [t for t in s.schema_tables(cursor, schema) if t not in s.EXCLUDED_TABLES]
            columns = s.table_columns(cursor, schema)
            inside, outside = s.file_paths(cursor, schema)
            if outside:
                warnings.append(f"利用団体のフォルダの外を指すファイル {len(outside)} 件は含めていません。")
            cursor.execute(
                "SELECT c.relname, pg_table_size(c.oid) FROM pg_class c JOIN pg_namespace n "
                "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'", [schema])
            table_bytes = dict(cursor.fetchall())
            media = []
            for path in inside:
                source = (media_root / path).resolve()
                if not source.is_relative_to(media_root) or not source.is_file():
                    warnings.append(f"ファイルが見つからないため含めていません: {path}")
                    continue
                media.append((path, source, source.stat().st_size))
            total = max(1, sum(table_bytes.get(t, 0) for t in tables) + sum(size for *_, size in media))
            done = 0

            with open(part, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz", compresslevel=COMPRESS_LEVEL,
                                                       format=tarfile.PAX_FORMAT) as tar:
                writer = _Writer(tar)
                writer.add_bytes(m.HEADER_MEMBER, m.header_bytes())
                entries = []
                for table in tables:
                    report(2 + 93 * done // total, f"表 {table} を書き出しています")
                    spooled = Path(spool_dir) / f"{table}.copy"
                    cols = columns[table]
                    statement = sql.SQL("COPY {} ({}) TO STDOUT").format(
                        s.qualified(schema, table), s.column_list(cols))
                    with open(spooled, "wb", buffering=m.CHUNK) as spool, cursor.copy(statement) as copy:
                        for data in copy:
                            spool.write(data)
                    rows = cursor.rowcount
                    member = f"{m.TABLES_DIR}{table}.copy"
                    with open(spooled, "rb") as data:
                        writer.add(member, data, spooled.stat().st_size)
                    spooled.unlink()
                    role = "reference" if table in s.REFERENCE_TABLES else "data"
                    entries.append(m.TableEntry(name=table, member=member, columns=cols, rows=rows, role=role))
                    done += table_bytes.get(table, 0)
                media_entries = []
                for index, (path, source, size) in enumerate(media):
                    if index % 20 == 0:
                        report(2 + 93 * done // total, f"ファイルを書き出しています（{index}/{len(media)}）")
                    member = m.MEDIA_DIR + path
                    with open(source, "rb") as data:
                        writer.add(member, data, size)
                    media_entries.append(m.MediaEntry(member=member, path=path))
                    done += size
                report(96, "目録を書き出しています")
                for name, data in _public_rows(tenant).items():
                    writer.add_bytes(name, data)
                manifest = m.Manifest(
                    source={"slug": tenant.slug, "schema": schema, "name": tenant.name,
                            "base_domain": settings.BASE_DOMAIN},
                    migrations=state, tables=entries, media=media_entries, files=dict(writer.files),
                    created_at=datetime.now(UTC).isoformat(), akagi_version=_akagi_version(),
                    embedding_model=_embedding_model(), warnings=warnings,
                )
                writer.add_bytes(m.MANIFEST_MEMBER, manifest.to_bytes(), listed=False)
        part.replace(out)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    figures = {
        "slug": tenant.slug,
        "tables": len(entries),
        "rows": sum(e.rows for e in entries if e.role == "data"),
        "files": len(media_entries),
        "file_bytes": sum(size for *_, size in media),
        "size": out.stat().st_size,
        "sha256": _file_sha256(out),
        "seconds": round(time.monotonic() - started, 2),
        "warnings": warnings,
    }
    record(action="tenant.export", actor=actor, actor_label=actor_label or ("" if actor else "system"),
           target=f"tenant:{tenant.slug}", detail={**figures, "archive": out.name})
    return figures


def _file_sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(m.CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _akagi_version() -> str:
    import tomllib

    try:
        with open(Path(settings.BASE_DIR) / "pyproject.toml", "rb") as f:
            return str(tomllib.load(f)["project"]["version"])
    except (OSError, KeyError, ValueError):
        return ""
