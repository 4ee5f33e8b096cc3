"""A provisioning that fails half way leaves nothing behind: no schema, no domain, no row; the job says why."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from tenants import services
from tenants.jobs import start_job
from tenants.models import Domain, OperatorAuditEvent, Tenant, TenantJob


def _schema_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", [name])
        return cursor.fetchone() is not None


def test_a_create_tenant_that_fails_after_the_schema_drops_the_schema_and_the_row(db):
    # The password is checked only when the administrator is created, after the schema exists.
    with pytest.raises(ValidationError) as excinfo:
        services.create_tenant(slug="annaka", name="安中テスト市", admin_email="a@annaka.example.lg.jp",
                               admin_staff_number="N1", admin_password="short")
    assert "password" in excinfo.value.message_dict
    assert not Tenant.objects.filter(slug="annaka").exists()
    assert not Domain.objects.filter(domain="annaka.localhost").exists()
    assert not _schema_exists("t_annaka")
    event = OperatorAuditEvent.objects.get(action="tenant.create_failed", target="tenant:annaka")
    assert event.detail["removed"] is True
    assert not OperatorAuditEvent.objects.filter(action="tenant.create", target="tenant:annaka").exists()


def test_a_failed_provisioning_job_leaves_no_schema_and_tells_the_operator(db, monkeypatch):
    def broken_seed(tenant):
        assert _schema_exists("t_fujioka")  # it really failed half way
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "seed_starter_content", broken_seed)
    job = start_job(kind=TenantJob.Kind.PROVISION, tenant_slug="fujioka", params={
        "slug": "fujioka", "name": "藤岡テスト市", "admin_email": "a@fujioka.example.lg.jp",
        "admin_staff_number": "F1", "seat_cap": 10, "monthly_char_cap": 1000, "allowed_models": [],
        "monthly_price_cap_yen": None, "is_training": False})
    finished = services.provision_from_job(job_id=job.pk)
    assert finished.state == TenantJob.State.FAILED
    assert "予期しないエラー" in finished.error
    assert finished.tenant_id is None
    assert not Tenant.objects.filter(slug="fujioka").exists()
    assert not _schema_exists("t_fujioka")
    assert not Domain.objects.filter(domain="fujioka.localhost").exists()

    # Nothing half-made blocks a second attempt with the same slug.
    monkeypatch.undo()
    again = start_job(kind=TenantJob.Kind.PROVISION, tenant_slug="fujioka", params=job.params)
    assert services.provision_from_job(job_id=again.pk).state == TenantJob.State.DONE
    assert _schema_exists("t_fujioka")


def test_a_job_for_a_slug_taken_meanwhile_fails_without_touching_the_existing_municipality(tenant_a):
    job = start_job(kind=TenantJob.Kind.PROVISION, tenant_slug="demo-a", params={
        "slug": "demo-a", "name": "乗っ取り", "admin_email": "x@example.lg.jp", "admin_staff_number": "X1",
        "seat_cap": None, "monthly_char_cap": 5})
    finished = services.provision_from_job(job_id=job.pk)
    assert finished.state == TenantJob.State.FAILED and "すでに登録されています" in finished.error
    tenant_a.refresh_from_db()
    assert tenant_a.name == "あかぎ市（デモ）" and tenant_a.monthly_char_cap == 1_000_000
    assert _schema_exists("t_demo_a")
