"""Benchmark of the log export: a million prompt events to CSV and JSON Lines; prints one JSON object.

    .venv/bin/python bench/admin_export.py [--events 1000000] [--operations 20000] [--keep-files]

Everything runs against the bench's own embedded PostgreSQL and Redis under ``.data/bench-export`` (started on
first use, stopped at the end), in a scratch municipality ``bench``. The events are written by SQL
(``INSERT ... SELECT generate_series``): their hash chain is not valid, which the export does not look at.
Each export is the same ``audit.exports.run_export`` the Celery worker calls, run here in this process so that
its peak memory can be read: ``ru_maxrss`` before and after shows whether memory stays bounded.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

from support import ROOT, logger, manage, prepare_environment, stop_embedded

DATA_DIR = ROOT / ".data" / "bench-export"
MANAGE_TIMEOUT_S = 600
TENANT = "bench"
USERS = 50
GROUPS = 5
log = logger("admin_export")


def max_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # kilobytes on Linux


def current_rss_mb() -> float:
    import psutil

    return round(psutil.Process().memory_info().rss / 2**20, 1)


# --------------------------------------------------------------------------- data


def make_people() -> tuple[list[int], list[str]]:
    """50 staff in 5 groups (bulk, unusable passwords: nobody logs in), returned as ids and audit labels."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group

    from accounts.models import User

    unusable = make_password(None)
    User.objects.filter(staff_number__startswith="BENCH").delete()
    Group.objects.filter(name__startswith="ベンチ課").delete()
    groups = Group.objects.bulk_create([Group(name=f"ベンチ課{n}") for n in range(GROUPS)])
    users = User.objects.bulk_create([
        User(staff_number=f"BENCH{n:03d}", email=f"bench{n}@bench.example.jp", full_name=f"ベンチ 職員{n}",
             department="情報政策課", password=unusable)
        for n in range(USERS)
    ])
    User.groups.through.objects.bulk_create([
        User.groups.through(user_id=user.pk, group_id=groups[n % GROUPS].pk) for n, user in enumerate(users)
    ])
    return [u.pk for u in users], [str(u) for u in users]


PROMPT_EVENTS_SQL = """
INSERT INTO audit_auditevent (created_at, actor_id, actor_label, action, target, detail, ip_address, prev_hash, hash)
SELECT
    %(start)s::timestamptz + g * interval '5 seconds',
    (%(ids)s::bigint[])[1 + g %% %(users)s],
    (%(labels)s::text[])[1 + g %% %(users)s],
    CASE WHEN g %% 211 = 0 THEN 'prompt.refused' WHEN g %% 97 = 0 THEN 'prompt.blocked'
         WHEN g %% 20 = 0 THEN 'prompt.masked' ELSE 'prompt.sent' END,
    'conversation:' || (g / 7),
    jsonb_build_object(
        'model', CASE WHEN g %% 3 = 0 THEN 'gpt-4o-mini' ELSE 'gpt-4o' END,
        'status', 'complete', 'note', '',
        'prompt', CASE WHEN g %% 1000 = 0 THEN '=HYPERLINK("http://example.invalid/' || g || '")'
                       ELSE '依頼' || g || '：' || repeat('市民課窓口の案内文を丁寧な表現に直してください。', 3) END,
        'answer', repeat('承知しました。窓口の案内文を次のとおり修正しました。', 5) || g,
        'prompt_chars', 80 + g %% 40, 'answer_chars', 130 + g %% 60,
        'prompt_tokens', 60 + g %% 30, 'completion_tokens', 90 + g %% 50,
        'findings', CASE WHEN g %% 20 = 0
                         THEN '[{"type": "phone", "start": 4, "end": 16, "action": "mask"}]'::jsonb
                         ELSE '[]'::jsonb END,
        'latency_ms', 700 + g %% 2300, 'cancelled', false, 'offline', false),
    ('10.0.' || (g %% 250) || '.' || (g %% 200 + 1))::inet,
    '',
    md5('p' || g) || md5('q' || g)
FROM generate_series(1, %(count)s) AS g
"""

OPERATION_EVENTS_SQL = """
INSERT INTO audit_auditevent (created_at, actor_id, actor_label, action, target, detail, ip_address, prev_hash, hash)
SELECT
    %(start)s::timestamptz + g * interval '250 seconds' + interval '1 second',
    (%(ids)s::bigint[])[1 + g %% %(users)s],
    (%(labels)s::text[])[1 + g %% %(users)s],
    (ARRAY['login', 'logout', 'user.update', 'settings.models', 'export.start', 'access.denied'])[1 + g %% 6],
    'user:BENCH' || lpad((g %% %(users)s)::text, 3, '0'),
    jsonb_build_object('department', jsonb_build_object('before', '市民課', 'after', '福祉課' || g)),
    ('10.1.' || (g %% 250) || '.1')::inet,
    '',
    md5('o' || g) || md5('r' || g)
FROM generate_series(1, %(count)s) AS g
"""


def seed_events(prompts: int, operations: int) -> dict[str, Any]:
    from django.db import connection

    from audit.models import AuditEvent, ExportJob

    ids, labels = make_people()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE audit_auditevent, audit_exportjob RESTART IDENTITY")
        params = {"start": "2026-01-05T09:00:00+09:00", "ids": ids, "labels": labels, "users": USERS}
        cursor.execute(PROMPT_EVENTS_SQL, {**params, "count": prompts})
        cursor.execute(OPERATION_EVENTS_SQL, {**params, "count": operations})
        cursor.execute("ANALYZE audit_auditevent")
        cursor.execute("SELECT pg_total_relation_size('audit_auditevent')")
        table_bytes = cursor.fetchone()[0]
    assert not ExportJob.objects.exists()
    return {
        "prompt_events": prompts, "operation_events": operations, "total_events": AuditEvent.objects.count(),
        "insert_seconds": round(time.perf_counter() - started, 1), "table_mb": round(table_bytes / 2**20, 1),
    }


# --------------------------------------------------------------------------- exports


def export(admin, kind: str, fmt: str, filters: dict[str, str]) -> dict[str, Any]:
    from django.conf import settings
    from django.db.models import Max

    from audit import exports
    from audit.models import AuditEvent, ExportJob

    progress_at: list[tuple[float, int]] = []
    real_update = exports._update

    def timed_update(job, **fields):
        if "rows_done" in fields and "state" not in fields:
            progress_at.append((time.perf_counter(), fields["rows_done"]))
        real_update(job, **fields)

    exports._update = timed_update
    job = ExportJob.objects.create(
        requested_by=admin, requested_by_label=str(admin), kind=kind, format=fmt, filters=filters,
        until_event_id=AuditEvent.objects.aggregate(newest=Max("id"))["newest"],
    )
    rss_before, peak_before = current_rss_mb(), max_rss_mb()
    started = time.perf_counter()
    try:
        exports.run_export(job.pk)
    finally:
        exports._update = real_update
    seconds = time.perf_counter() - started
    job.refresh_from_db()
    if job.state != ExportJob.State.DONE:
        raise RuntimeError(f"export {kind}/{fmt} ended {job.state}: {job.error}")
    path = Path(settings.MEDIA_ROOT) / job.file_path
    return {
        "kind": kind, "format": fmt, "filters": filters, "rows": job.rows_done, "seconds": round(seconds, 1),
        "rows_per_second": round(job.rows_done / seconds) if seconds else None,
        "file_mb": round(path.stat().st_size / 2**20, 1),
        "first_progress_after_s": round(progress_at[0][0] - started, 1) if progress_at else None,
        "progress_updates": len(progress_at),
        "rss_mb_before": rss_before, "rss_mb_after": current_rss_mb(),
        "peak_rss_mb_before": peak_before, "peak_rss_mb_after": max_rss_mb(),
        "_path": path,
    }


def screen_timings(admin, group: str) -> list[dict[str, Any]]:
    """What the log screen costs on the same data: the count and the first page of 50, per filter."""
    from audit.queries import EVENT_FIELDS, PAGE_SIZE, events_for_admin, log_rows, parse_filters

    timings = []
    for kind, params in [
        ("prompts", {}),
        ("prompts", {"user": "BENCH007"}),
        ("prompts", {"group": group, "date_from": "2026-02-01", "date_to": "2026-02-07"}),
        ("prompts", {"result": "blocked", "model": "gpt-4o-mini"}),
        ("prompts", {"text": "依頼123457："}),
        ("operations", {"category": "login", "text": "BENCH012"}),
    ]:
        started = time.perf_counter()
        events = events_for_admin(admin, parse_filters(params, kind=kind))
        total = events.count()
        rows = log_rows(kind, events.values(*EVENT_FIELDS)[:PAGE_SIZE])
        timings.append({"kind": kind, "filters": params, "rows": total, "first_page_rows": len(rows),
                        "seconds": round(time.perf_counter() - started, 2)})
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="prompt events to create and export")
    parser.add_argument("--operations", type=int, default=20_000, help="operation events besides the prompts")
    parser.add_argument("--keep-files", action="store_true", help="leave the export files in the data directory")
    args = parser.parse_args()
    if not 1 <= args.events <= 5_000_000 or not 0 <= args.operations <= 1_000_000:
        parser.error("--events must be 1..5,000,000 and --operations 0..1,000,000")

    began = time.perf_counter()
    prepare_environment(DATA_DIR)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"bench": "admin_export", "config": {
        "data_dir": str(DATA_DIR.relative_to(ROOT)), "tenant": TENANT, "users": USERS, "groups": GROUPS,
        "cpus": os.cpu_count(),
    }}
    files: list[Path] = []
    try:
        log(f"setup: migrate_schemas, tenant_create {TENANT} (data dir {DATA_DIR})")
        manage("migrate_schemas", "-v0", timeout=MANAGE_TIMEOUT_S)
        manage("tenant_create", TENANT, "--name", "ベンチ", "--admin-email", "kanri@bench.example.jp",
               "--admin-staff-number", "BADMIN", "--admin-password", "Bench#Export2026", timeout=MANAGE_TIMEOUT_S)

        import django

        django.setup()
        from django.contrib.auth.models import Group

        from accounts.models import User
        from audit import exports
        from tenants.crossing import in_tenant
        from tenants.models import Tenant

        report["config"].update(chunk_size=exports.CHUNK_SIZE, progress_every=exports.PROGRESS_EVERY)
        with in_tenant(Tenant.objects.get(slug=TENANT)):
            log(f"inserting {args.events:,} prompt and {args.operations:,} operation events")
            report["data"] = seed_events(args.events, args.operations)
            admin = User.objects.get(staff_number="BADMIN")
            report["rss_mb_after_setup"] = current_rss_mb()
            runs = []
            group = str(Group.objects.get(name="ベンチ課0").pk)
            for kind, fmt, filters in [
                ("prompts", "csv", {}),
                ("prompts", "jsonl", {}),
                ("prompts", "csv", {"group": group, "model": "gpt-4o-mini", "date_from": "2026-01-20",
                                    "date_to": "2026-02-10"}),
                ("operations", "csv", {}),
            ]:
                log(f"export {kind} {fmt} {filters or 'all'}")
                result = export(admin, kind, fmt, filters)
                files.append(result.pop("_path"))
                runs.append(result)
                log(f"  {result['rows']:,} rows in {result['seconds']} s, peak RSS {result['peak_rss_mb_after']} MB")
            report["exports"] = runs
            log("log screen: count and first page per filter")
            report["screen"] = screen_timings(admin, group)
        report["peak_rss_mb"] = max_rss_mb()
        report["total_seconds"] = round(time.perf_counter() - began, 1)
    finally:
        if not args.keep_files:
            for path in files:
                path.unlink(missing_ok=True)
        log("stopping the embedded servers")
        report["embedded_stop"] = stop_embedded()[-300:]
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
