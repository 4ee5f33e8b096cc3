"""A real Celery worker makes the export file in the municipality's schema.

The worker sees only committed rows, and every test runs in a transaction that is rolled back, so the job is
committed through a connection of its own (and removed afterwards) and exports events the session seeded and
committed: the ``user.create`` events of demo-a's staff.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from psycopg.types.json import Jsonb

from audit.models import AuditEvent
from audit.queries import EVENT_FIELDS, events_for_admin, parse_filters
from audit.tasks import run_export
from tests.adminpanel.test_logs_search import users_of


@pytest.fixture
def committed():
    """A connection outside the test's transaction, for rows the worker must see."""
    db = connection.settings_dict
    with psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"] or None,
                         dbname=db["NAME"], autocommit=True) as conn:
        yield conn


def test_the_worker_exports_committed_operation_events_of_the_senders_municipality(
        tenant_a, celery_worker_process, committed):
    admin = users_of(tenant_a)["A001"]
    connection.set_tenant(tenant_a)
    filters = parse_filters({"category": "users", "text": "user:A00"}, kind="operations")
    until = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    expected = list(events_for_admin(admin, filters, until_id=until).values(*EVENT_FIELDS))
    assert {e["target"] for e in expected} >= {"user:A002", "user:A003"}  # seeded by the session

    schema = tenant_a.schema_name
    job_id = committed.execute(
        f'INSERT INTO "{schema}".audit_exportjob (requested_by_id, requested_by_label, kind, format, filters, '  # noqa: S608 - the schema name comes from the Tenant row
        "until_event_id, state, rows_done, file_path, error, created_at) "
        "VALUES (%s, %s, 'operations', 'csv', %s, %s, 'queued', 0, '', '', now()) RETURNING id",
        [admin.pk, str(admin), Jsonb(filters.to_params()), until],
    ).fetchone()[0]
    path = None
    try:
        connection.set_tenant(tenant_a)  # the task carries the sender's schema to the worker
        run_export.delay(job_id).get(timeout=60)
        state, error, rows_done, rows_total, file_path = committed.execute(
            f'SELECT state, error, rows_done, rows_total, file_path FROM "{schema}".audit_exportjob '  # noqa: S608
            "WHERE id = %s", [job_id],
        ).fetchone()
        assert (state, error) == ("done", "")
        assert rows_done == rows_total == len(expected)
        assert file_path.startswith(f"exports/{schema}/")
        path = Path(settings.MEDIA_ROOT) / file_path
        text = path.read_text(encoding="utf-8")
        assert text.startswith("\ufeff")
        header, *rows = csv.reader(io.StringIO(text[1:], newline=""))
        assert header[:4] == ["日時", "操作者", "操作", "対象"]
        assert [(row[2], row[3]) for row in rows] == [(e["action"], e["target"]) for e in expected]
        assert ("user.create", "user:A002") in {(row[2], row[3]) for row in rows}
    finally:
        committed.execute(f'DELETE FROM "{schema}".audit_exportjob WHERE id = %s', [job_id])  # noqa: S608
        if path is not None:
            path.unlink(missing_ok=True)


def test_a_job_id_sent_from_another_municipality_finds_nothing_there(tenant_a, tenant_b, celery_worker_process,
                                                                      committed):
    schema = tenant_a.schema_name
    admin = users_of(tenant_a)["A001"]
    job_id = committed.execute(
        f'INSERT INTO "{schema}".audit_exportjob (requested_by_id, requested_by_label, kind, format, filters, '  # noqa: S608
        "state, rows_done, file_path, error, created_at) "
        "VALUES (%s, '', 'operations', 'csv', '{}', 'queued', 0, '', '', now()) RETURNING id",
        [admin.pk],
    ).fetchone()[0]
    try:
        connection.set_tenant(tenant_b)
        run_export.delay(job_id).get(timeout=60)  # runs in demo-b's schema, where the id names no job
        assert committed.execute(
            f'SELECT state FROM "{schema}".audit_exportjob WHERE id = %s', [job_id]  # noqa: S608
        ).fetchone() == ("queued",)
    finally:
        committed.execute(f'DELETE FROM "{schema}".audit_exportjob WHERE id = %s', [job_id])  # noqa: S608
