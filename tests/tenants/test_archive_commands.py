"""tenant_export / tenant_import as an operator runs them: separate processes, real commits, no test transaction.

These tests commit to the test database (the commands run in their own processes), so everything they create is
removed again afterwards through a connection of its own, once the test's transaction has ended.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from django.db import connection, connections

from tenants.models import Tenant
from tests.conftest import BASE_DIR, login, server_env

NEW_SLUG = "demo-moved"


def manage(*args: str, media: Path) -> subprocess.CompletedProcess:
    env = server_env()
    env["AKAGI_MEDIA_ROOT"] = str(media)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True,
                          text=True, timeout=300)


def _drop_committed(slugs: list[str]) -> None:
    side = connections.create_connection("default")
    try:
        with side.cursor() as cursor:
            cursor.execute(
                "SELECT src.relname, a.attname FROM pg_constraint k JOIN pg_class src ON src.oid = k.conrelid "
                "JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1] "
                "WHERE k.contype = 'f' AND k.confrelid = 'public.tenants_tenant'::regclass")
            references = cursor.fetchall()
            for slug in slugs:
                cursor.execute("SELECT id, schema_name FROM public.tenants_tenant WHERE slug = %s", [slug])
                row = cursor.fetchone()
                if row is None:
                    continue
                for table, column in references:
                    cursor.execute(f'DELETE FROM public."{table}" WHERE "{column}" = %s', [row[0]])  # noqa: S608
                cursor.execute("DELETE FROM public.tenants_tenant WHERE id = %s", [row[0]])
                cursor.execute(f'DROP SCHEMA IF EXISTS "{row[1]}" CASCADE')
            cursor.execute("SELECT count(*) FROM public.tenants_tenant WHERE slug = ANY(%s)", [slugs])
            assert cursor.fetchone()[0] == 0
    finally:
        side.close()


@pytest.fixture
def committed_tenants(django_db_blocker):
    """Slugs to remove after the test; set up before ``db`` so that it is torn down after the rollback."""
    slugs: list[str] = []
    yield slugs
    with django_db_blocker.unblock():
        _drop_committed(slugs)


def test_commands_carry_demo_a_to_a_new_slug_and_refuse_a_broken_archive(committed_tenants, db, tmp_path):
    committed_tenants.append(NEW_SLUG)
    media = tmp_path / "media"
    archive = tmp_path / "demo-a.tar.gz"

    exported = manage("tenant_export", "demo-a", "--out", str(archive), media=media)
    assert exported.returncode == 0, exported.stderr
    assert "書き出しました" in exported.stdout and "最大メモリ" in exported.stdout
    again = manage("tenant_export", "demo-a", "--out", str(archive), media=media)
    assert again.returncode != 0 and "既に存在します" in again.stderr

    # A data member corrupted with checksums to match: it passes verification and fails while loading;
    # the transaction (schema included) is rolled back by the server, nothing is left.
    with tarfile.open(archive, "r:gz") as tar:
        items = [(info.name, tar.extractfile(info).read()) for info in tar]
    manifest = json.loads(dict(items)["manifest.json"])
    broken_items = []
    for name, data in items:
        if name == "tables/audit_auditevent.copy":
            data = data.replace(b"\t", b"\tx\t", 1)
        if name != "manifest.json":
            manifest["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        broken_items.append((name, data))
    broken = tmp_path / "broken.tar.gz"
    import io

    with tarfile.open(broken, "w:gz") as tar:
        for name, data in broken_items:
            data = json.dumps(manifest).encode() if name == "manifest.json" else data
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    failed = manage("tenant_import", str(broken), "--slug", NEW_SLUG, media=media)
    assert failed.returncode != 0 and "audit_auditevent" in failed.stderr
    assert not Tenant.objects.filter(slug=NEW_SLUG).exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = 't_demo_moved'")
        assert cursor.fetchone() is None

    imported = manage("tenant_import", str(archive), "--slug", NEW_SLUG, "--name", "移行先", media=media)
    assert imported.returncode == 0, imported.stderr
    assert "取り込みました" in imported.stdout and "http://demo-moved.localhost" in imported.stdout
    verified = manage("audit_verify", "--tenant", NEW_SLUG, media=media)
    assert verified.returncode == 0 and "OK" in verified.stdout

    moved = Tenant.objects.get(slug=NEW_SLUG)
    assert moved.name == "移行先"
    from django.test import Client

    client = Client(HTTP_HOST=f"{NEW_SLUG}.localhost")
    assert login(client, "A001", "Kanri#Demo2026").status_code == 302


def test_progress_is_visible_while_the_jobs_transaction_is_open(committed_tenants, db):
    """The side connection commits progress at once; the job's own connection may sit in a long transaction."""
    from django.db import transaction

    from tenants.archive.jobs import SideReporter
    from tenants.models import TenantJob

    side = connections.create_connection("default")
    try:
        with side.cursor() as cursor:
            cursor.execute("INSERT INTO public.tenants_tenantjob (kind, state, progress, step, error, tenant_slug, "
                           "params, result, file_path, created_by_label, created_at) VALUES ('export', 'running', "
                           "0, '', '', 'demo-a', '{}', '{}', '', 'test', now()) RETURNING id")
            job_id = cursor.fetchone()[0]
        with transaction.atomic():
            reporter = SideReporter(job_id, interval=0)
            reporter(42, "表 rag_chunk を書き出しています")
            reporter.close()
            with side.cursor() as cursor:
                cursor.execute("SELECT progress, step FROM public.tenants_tenantjob WHERE id = %s", [job_id])
                assert cursor.fetchone() == (42, "表 rag_chunk を書き出しています")
        assert TenantJob.objects.get(pk=job_id).progress == 42
    finally:
        with side.cursor() as cursor:
            cursor.execute("DELETE FROM public.tenants_tenantjob WHERE id = %s", [job_id])
        side.close()


def test_the_archive_tasks_are_registered_under_their_names():
    from config.celery import app

    app.loader.import_default_modules()
    assert {"tenants.tasks.archive.export_tenant", "tenants.tasks.archive.import_tenant",
            "tenants.tasks.archive.purge_old_archives"} <= set(app.tasks)
