"""The console's 利用団体の追加 creates schema, domain, first administrator and starter content; the administrator
logs in on the new host with the password shown once on the job page."""

import re

from django.db import connection
from django.test import Client

from prompts.models import PromptTemplate
from tenants.models import Domain, OperatorAuditEvent, Tenant, TenantJob
from tenants.services import provision_from_job
from tests.conftest import login
from training.models import Tip

OPERATOR = ("PREF-0001", "Unei#Demo2026")


def _add_form(**overrides) -> dict:
    form = {
        "slug": "kiryu-c", "name": "桐生コンソール市", "admin_email": "kanri@kiryu-c.example.lg.jp",
        "admin_staff_number": "K0001", "admin_full_name": "桐生 管理", "seat_cap": "30",
        "monthly_char_cap": "1,000,000", "monthly_price_cap_yen": "", "allowed_models": [],
    }
    form.update(overrides)
    return form


def test_a_provisioned_municipalitys_first_administrator_logs_in_on_its_host(public_client):
    login(public_client, *OPERATOR)
    assert "1000000" in public_client.get("/console/tenants/new/").content.decode()  # the default cap

    response = public_client.post("/console/tenants/new/", _add_form())
    assert response.status_code == 302, response.content.decode()[:3000]
    job = TenantJob.objects.get(kind=TenantJob.Kind.PROVISION, tenant_slug="kiryu-c")
    assert response["Location"] == f"/console/jobs/{job.pk}/"
    assert job.state == TenantJob.State.QUEUED and "password" not in str(job.params).lower()

    # The worker's part, run here synchronously (the queued task only runs after a commit).
    finished = provision_from_job(job_id=job.pk)
    assert finished.state == TenantJob.State.DONE, finished.error
    assert finished.progress == 100 and finished.result["url"] == "http://kiryu-c.localhost:8000/"

    tenant = Tenant.objects.get(slug="kiryu-c")
    assert (tenant.name, tenant.seat_cap, tenant.monthly_char_cap) == ("桐生コンソール市", 30, 1_000_000)
    assert finished.tenant_id == tenant.pk
    assert Domain.objects.filter(tenant=tenant, domain="kiryu-c.localhost").exists()
    event = OperatorAuditEvent.objects.get(action="tenant.create", target="tenant:kiryu-c")
    assert event.actor_label.startswith("県 運営担当") and event.detail["seat_cap"] == 30

    page = public_client.get(f"/console/jobs/{job.pk}/").content.decode()
    assert "完了" in page
    password = re.search(r"<code>([^<]+)</code>", page.split('data-testid="job-secret"')[1]).group(1)
    assert password not in public_client.get(f"/console/jobs/{job.pk}/").content.decode()  # shown once

    connection.set_tenant(tenant)
    assert PromptTemplate.objects.filter(recommended=True).count() >= 10
    assert Tip.objects.filter(published=True).count() == 3
    connection.set_schema_to_public()

    staff = Client(HTTP_HOST="kiryu-c.localhost")
    response = login(staff, "K0001", password)
    assert response.status_code == 302
    assert "/accounts/login/" not in response["Location"]
    assert staff.get("/").status_code in (200, 302)  # logged in (first a forced password change)
    assert login(Client(HTTP_HOST="kiryu-c.localhost"), "kanri@kiryu-c.example.lg.jp", password).status_code == 302


def test_the_new_municipality_appears_in_the_list_with_its_plan(public_client):
    login(public_client, *OPERATOR)
    public_client.post("/console/tenants/new/", _add_form(slug="tatebayashi", name="館林コンソール市",
                                                          seat_unlimited="on", seat_cap="", is_training="on",
                                                          monthly_price_cap_yen="5000"))
    job = TenantJob.objects.get(tenant_slug="tatebayashi")
    assert provision_from_job(job_id=job.pk).state == TenantJob.State.DONE
    tenant = Tenant.objects.get(slug="tatebayashi")
    assert (tenant.seat_cap, tenant.is_training, tenant.monthly_price_cap_yen) == (None, True, 5000)
    page = public_client.get("/").content.decode()
    row = page.split('data-testid="tenant-row-tatebayashi"')[1].split("</tr>")[0]
    assert "館林コンソール市" in row and "研修環境" in row and "無制限" in row and "5,000 円" in row
