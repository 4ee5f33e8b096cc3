"""Benchmark of 環境の引き継ぎ: tenant_export and tenant_import of a municipality with 10,000 passages and 100 MB of
original files, as the operator runs them (``manage.py`` in a process of its own); prints one JSON object.

    .venv/bin/python bench/tenant_archive.py [--chunks 10000] [--file-mb 100] [--files 50] [--keep-files]

Everything runs against the bench's own embedded PostgreSQL and Redis under ``.data/bench-archive`` (started on
first use, stopped at the end). The municipality ``bench`` gets one knowledge base with ``--files`` documents
whose originals are random bytes (incompressible, the worst case for the archive) and ``--chunks`` passages with
384-dimension embeddings and a lexical index, written by SQL. Each command prints its peak RSS (``VmHWM``, the
process's own high-water mark); a tiny municipality's export gives the baseline, so ``peak_rss_mb`` minus the
baseline is what the data itself costs in memory (it should stay a few MB whatever the size).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from support import ROOT, logger, manage, prepare_environment, stop_embedded

DATA_DIR = ROOT / ".data" / "bench-archive"
MANAGE_TIMEOUT_S = 1800
TENANT = "bench"
SMALL = "bench-small"
COPY = "bench-copy"
log = logger("tenant_archive")


def timed_manage(*args: str) -> tuple[str, float]:
    """``manage.py ARGS``'s output and its wall time in seconds, the process's startup included."""
    started = time.perf_counter()
    out = manage(*args, timeout=MANAGE_TIMEOUT_S)
    return out, round(time.perf_counter() - started, 1)


def peak_mb(output: str) -> float:
    match = re.search(r"最大メモリ (\d+) MB", output)
    return float(match.group(1)) if match else -1.0


CHUNKS_SQL = """
INSERT INTO rag_chunk (document_id, collection_id, ordinal, text, heading_path, sheet, cells, embedding, lexical)
SELECT d.id, d.collection_id, g,
       repeat('住民票の写しの交付申請は、本人または同一世帯の方が窓口で行えます。', 8) || g,
       '["手引き"]'::jsonb, '', '',
       (SELECT array_agg(random()::real) FROM generate_series(1, 384) WHERE g > -1)::vector,
       to_tsvector('simple', '住民票 写し 交付 申請 本人 世帯 窓口 ' || g)
FROM rag_document d, generate_series(1, %(per_doc)s) AS g
WHERE d.collection_id = %(collection)s
"""


def seed(chunks: int, files: int, file_mb: float) -> dict[str, Any]:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from accounts.models import User
    from rag.models import Collection, Document
    from tenants.crossing import in_tenant
    from tenants.models import Tenant

    started = time.perf_counter()
    size = int(file_mb * 2**20 / files)
    with in_tenant(Tenant.objects.get(slug=TENANT)):
        owner = User.objects.get(staff_number="BADMIN")
        with connection.cursor() as cursor:  # SQL, not the ORM: deleting 10,000 chunks one by one would bloat this
            cursor.execute("TRUNCATE rag_chunk, rag_document, rag_collection CASCADE")  # process
        collection = Collection.objects.create(name="ベンチ", owner=owner, access=Collection.Access.ALL)
        folder = Path(settings.MEDIA_ROOT) / "rag" / connection.schema_name / str(collection.pk)
        folder.mkdir(parents=True, exist_ok=True)
        for n in range(files):
            digest = f"{n:064x}"
            (folder / f"{digest}.pdf").write_bytes(os.urandom(size))
            Document.objects.create(
                collection=collection, title=f"文書{n}", original_name=f"文書{n}.pdf", content_hash=digest,
                file=f"rag/{connection.schema_name}/{collection.pk}/{digest}.pdf", state=Document.State.READY,
                chunk_count=chunks // files, created_by=owner,
            )
        with connection.cursor() as cursor:
            cursor.execute(CHUNKS_SQL, {"per_doc": chunks // files, "collection": collection.pk})
            cursor.execute("ANALYZE rag_chunk")
            cursor.execute("SELECT count(*), pg_total_relation_size('rag_chunk') FROM rag_chunk")
            count, table_bytes = cursor.fetchone()
    return {"chunks": count, "documents": files, "file_mb": round(files * size / 2**20, 1),
            "rag_chunk_table_mb": round(table_bytes / 2**20, 1),
            "seed_seconds": round(time.perf_counter() - started, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--file-mb", type=float, default=100.0)
    parser.add_argument("--keep-files", action="store_true",
                        help="leave the archives and the generated originals in the data directory")
    args = parser.parse_args()

    began = time.perf_counter()
    prepare_environment(DATA_DIR)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    out_dir = DATA_DIR / "archives"
    out_dir.mkdir(exist_ok=True)
    big, small = out_dir / "bench.tar.gz", out_dir / "bench-small.tar.gz"
    report: dict[str, Any] = {"bench": "tenant_archive", "config": {
        "data_dir": str(DATA_DIR.relative_to(ROOT)), "cpus": os.cpu_count(), **vars(args)}}
    try:
        log(f"setup: migrate_schemas, tenants {TENANT} and {SMALL} (data dir {DATA_DIR})")
        manage("migrate_schemas", "-v0", timeout=MANAGE_TIMEOUT_S)
        for slug in (TENANT, SMALL):
            manage("tenant_create", slug, "--name", f"ベンチ {slug}", "--admin-email", f"kanri@{slug}.example.jp",
                   "--admin-staff-number", "BADMIN", "--admin-password", "Bench#Archive2026",
                   timeout=MANAGE_TIMEOUT_S)
        log(f"seeding {args.chunks:,} passages and {args.file_mb} MB in {args.files} files")
        report["data"] = seed(args.chunks, args.files, args.file_mb)

        log("tenant_export of the empty municipality (baseline)")
        out, seconds = timed_manage("tenant_export", SMALL, "--out", str(small), "--force")
        report["baseline_export"] = {"seconds": seconds, "peak_rss_mb": peak_mb(out)}
        log(f"tenant_export {TENANT}")
        out, seconds = timed_manage("tenant_export", TENANT, "--out", str(big), "--force")
        report["export"] = {"seconds_with_startup": seconds, "peak_rss_mb": peak_mb(out),
                            "archive_mb": round(big.stat().st_size / 2**20, 1), "output": out.strip().splitlines()}
        log(f"  {report['export']['archive_mb']} MB in {seconds} s, peak RSS {report['export']['peak_rss_mb']} MB")

        manage("shell", "-c", "from tenants.models import Tenant\n"
               f"for t in Tenant.objects.filter(slug__in=['{COPY}', '{COPY}-small']): t.delete(force_drop=True)",
               timeout=MANAGE_TIMEOUT_S)
        log("tenant_import of the empty municipality (baseline)")
        out, seconds = timed_manage("tenant_import", str(small), "--slug", f"{COPY}-small")
        report["baseline_import"] = {"seconds": seconds, "peak_rss_mb": peak_mb(out)}
        log(f"tenant_import as {COPY}")
        out, seconds = timed_manage("tenant_import", str(big), "--slug", COPY)
        report["import"] = {"seconds_with_startup": seconds, "peak_rss_mb": peak_mb(out),
                            "output": out.strip().splitlines()}
        log(f"  {seconds} s, peak RSS {report['import']['peak_rss_mb']} MB")
        verify = manage("audit_verify", "--tenant", COPY, timeout=MANAGE_TIMEOUT_S)
        report["audit_verify"] = verify.strip()
        report["export_peak_over_baseline_mb"] = report["export"]["peak_rss_mb"] - report["baseline_export"][
            "peak_rss_mb"]
        report["import_peak_over_baseline_mb"] = report["import"]["peak_rss_mb"] - report["baseline_import"][
            "peak_rss_mb"]
        report["total_seconds"] = round(time.perf_counter() - began, 1)
    finally:
        if not args.keep_files:
            for path in (big, small):
                path.unlink(missing_ok=True)
            for folder in (DATA_DIR / "media" / "rag").glob("t_bench*"):
                shutil.rmtree(folder, ignore_errors=True)  # the random originals: hundreds of MB
        log("stopping the embedded servers")
        report["embedded_stop"] = stop_embedded()[-300:]
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
