"""環境の引き継ぎ in the console: operator only, export and import as jobs, audited downloads of the archive."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tenants.archive import export_tenant, storage
from tenants.models import OperatorAuditEvent, Tenant, TenantJob
from tenants.tasks import archive as tasks
from tests.conftest import login

OPERATOR = ("PREF-0001", "Unei#Demo2026")
URLS = ["/console/environments/", "/console/environments/export/", "/console/environments/import/",
        "/console/environments/download/1/", "/console/environments/delete/1/"]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.mark.parametrize("url", URLS)
def test_environment_pages_are_404_on_a_municipalitys_host(client_a, url):
    login(client_a, "A001", "Kanri#Demo2026")
    assert client_a.get(url).status_code == 404
    assert client_a.post(url).status_code == 404


def test_environment_pages_send_anonymous_visitors_to_the_log_in_page(public_client):
    jobs_before = TenantJob.objects.count()  # e2e tests may have committed jobs of their own
    for url in ("/console/environments/", "/console/environments/download/1/"):
        response = public_client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    response = public_client.post("/console/environments/export/", {"tenant": "demo-a"})
    assert response.status_code == 302 and TenantJob.objects.count() == jobs_before


def test_the_operator_sees_both_forms_and_the_history(public_client):
    login(public_client, *OPERATOR)
    response = public_client.get("/console/environments/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "環境の引き継ぎ" in page and 'data-testid="export-form"' in page and 'data-testid="import-form"' in page
    assert '<option value="demo-a">' in page and 'value="public"' not in page


def test_an_export_job_produces_an_archive_the_operator_downloads(public_client, media):
    login(public_client, *OPERATOR)
    response = public_client.post("/console/environments/export/", {"tenant": "demo-a"})
    job = TenantJob.objects.filter(kind=TenantJob.Kind.EXPORT, tenant_slug="demo-a").latest("id")
    assert response.status_code == 302 and response["Location"] == f"/console/jobs/{job.pk}/"
    assert job.tenant.slug == "demo-a" and job.state == TenantJob.State.QUEUED

    assert tasks.export_tenant(job.pk) == TenantJob.State.DONE  # what the worker runs
    job.refresh_from_db()
    assert job.file_path.startswith("operator/archives/demo-a-") and job.file_size > 0
    assert job.result["tables"] > 10 and job.result["sha256"]

    status = public_client.get(f"/console/jobs/{job.pk}/").content.decode()
    assert f"/console/environments/download/{job.pk}/" in status

    response = public_client.get(f"/console/environments/download/{job.pk}/")
    assert response.status_code == 200 and response["Content-Type"] == "application/gzip"
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content)
    assert len(body) == job.file_size and hashlib.sha256(body).hexdigest() == job.result["sha256"]
    event = OperatorAuditEvent.objects.filter(action="tenant.archive_download").latest("id")
    assert event.target == "tenant:demo-a" and event.detail["job"] == job.pk
    assert event.actor_label.startswith("県 運営担当")
    assert OperatorAuditEvent.objects.filter(action="tenant.export", target="tenant:demo-a").exists()

    # Deleting the archive removes the file; the history keeps the job.
    assert public_client.post(f"/console/environments/delete/{job.pk}/").status_code == 302
    assert not (media / job.file_path).exists()
    assert public_client.get(f"/console/environments/download/{job.pk}/").status_code == 404
    assert OperatorAuditEvent.objects.filter(action="tenant.archive_delete").exists()


def test_an_uploaded_archive_is_imported_by_a_job(public_client, tenant_a, media, tmp_path):
    archive = tmp_path / "demo-a.tar.gz"
    export_tenant(tenant_a, archive)
    login(public_client, *OPERATOR)
    upload = SimpleUploadedFile("demo-a.tar.gz", archive.read_bytes(), content_type="application/gzip")
    response = public_client.post("/console/environments/import/",
                                  {"archive": upload, "slug": "ota-moved", "name": "太田（移行）"})
    job = TenantJob.objects.get(kind=TenantJob.Kind.IMPORT, tenant_slug="ota-moved")
    assert response.status_code == 302 and response["Location"] == f"/console/jobs/{job.pk}/"
    uploaded = media / job.params["upload"]
    assert uploaded.read_bytes() == archive.read_bytes()  # streamed to disk as it came

    assert tasks.import_tenant(job.pk) == TenantJob.State.DONE
    job.refresh_from_db()
    tenant = Tenant.objects.get(slug="ota-moved")
    assert job.tenant_id == tenant.pk and tenant.name == "太田（移行）"
    assert job.result["url"].startswith("http://ota-moved.localhost")
    assert not uploaded.exists()  # the archive holds password hashes; it is not kept after the import
    assert "ota-moved" in public_client.get("/console/environments/").content.decode()


def test_an_import_into_an_existing_slug_is_refused_at_once(public_client, tenant_a, media, tmp_path):
    jobs_before = TenantJob.objects.count()
    archive = tmp_path / "demo-a.tar.gz"
    export_tenant(tenant_a, archive)
    login(public_client, *OPERATOR)
    upload = SimpleUploadedFile("demo-a.tar.gz", archive.read_bytes(), content_type="application/gzip")
    response = public_client.post("/console/environments/import/", {"archive": upload, "slug": "demo-b"})
    assert response.status_code == 400
    assert "既に存在します" in response.content.decode()
    assert TenantJob.objects.count() == jobs_before
    assert not any(storage.upload_dir().iterdir())


def test_a_failed_import_job_says_why(public_client, media, tmp_path):
    login(public_client, *OPERATOR)
    upload = SimpleUploadedFile("x.tar.gz", b"not an archive at all", content_type="application/gzip")
    public_client.post("/console/environments/import/", {"archive": upload, "slug": "broken-one"})
    job = TenantJob.objects.get(kind=TenantJob.Kind.IMPORT, tenant_slug="broken-one")
    assert tasks.import_tenant(job.pk) == TenantJob.State.FAILED
    job.refresh_from_db()
    assert "壊れて" in job.error and not Tenant.objects.filter(slug="broken-one").exists()
    assert "壊れて" in public_client.get(f"/console/jobs/{job.pk}/").content.decode()


def test_an_upload_over_the_limit_is_refused_without_keeping_it(public_client, media, settings):
    jobs_before = TenantJob.objects.count()
    settings.AKAGI_ARCHIVE_MAX_UPLOAD_BYTES = 1000
    login(public_client, *OPERATOR)
    upload = SimpleUploadedFile("big.tar.gz", b"x" * 5000, content_type="application/gzip")
    response = public_client.post("/console/environments/import/", {"archive": upload, "slug": "big-one"})
    assert response.status_code == 413 and "大きすぎます" in response.content.decode()
    assert TenantJob.objects.count() == jobs_before
    upload_dir = media / storage.UPLOAD_DIR
    assert not upload_dir.exists() or not any(upload_dir.iterdir())


def test_the_upload_handler_stops_at_the_limit_even_without_a_declared_length(media):
    from django.core.files.uploadhandler import StopUpload

    handler = storage.ArchiveUploadHandler(limit=10)
    handler.new_file("archive", "a.tar.gz", "application/gzip", None)
    handler.receive_data_chunk(b"12345", 0)
    with pytest.raises(StopUpload):
        handler.receive_data_chunk(b"678901", 5)
    assert handler.too_large and not any(storage.upload_dir().iterdir())


def test_old_archives_are_purged(db, media):
    import datetime as dt

    from django.utils import timezone

    path = storage.archive_dir() / "demo-a-old.tar.gz"
    path.write_bytes(b"x")
    job = TenantJob.objects.create(kind=TenantJob.Kind.EXPORT, state=TenantJob.State.DONE, tenant_slug="demo-a",
                                   file_path=storage.relative(path), file_size=1,
                                   finished_at=timezone.now() - dt.timedelta(days=30))
    assert storage.purge_old_archives() == 1
    job.refresh_from_db()
    assert not path.exists() and job.file_path == "" and job.file_size is None
