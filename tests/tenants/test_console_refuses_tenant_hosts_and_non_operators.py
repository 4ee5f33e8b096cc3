"""Console URLs do not exist on a municipality's host, and nobody but a prefecture operator gets past them."""

import pytest

from tenants.models import OperatorAuditEvent, Tenant, TenantJob
from tests.conftest import login

CONSOLE_URLS = [
    "/console/", "/console/tenants/new/", "/console/tenants/demo-a/", "/console/tenants/demo-a/plan/",
    "/console/tenants/demo-a/suspend/", "/console/tenants/demo-a/resume/", "/console/audit/",
    "/console/export/?format=csv",
]


@pytest.mark.parametrize("url", CONSOLE_URLS)
def test_console_urls_are_404_on_a_municipalitys_host_even_for_its_administrator(client_a, url):
    assert client_a.get(url).status_code == 404
    login(client_a, "A001", "Kanri#Demo2026")
    assert client_a.get(url).status_code == 404
    assert client_a.post(url).status_code == 404


def test_looking_for_the_console_on_a_municipalitys_host_is_logged_there(client_a, tenant_a):
    from django.db import connection

    from audit.models import AuditEvent

    login(client_a, "A001", "Kanri#Demo2026")
    assert client_a.get("/console/tenants/new/").status_code == 404
    connection.set_tenant(tenant_a)
    denied = AuditEvent.objects.filter(action="access.denied", target="/console/tenants/new/").latest("id")
    assert denied.actor_id is not None and denied.detail["reason"] == "operator_path_on_tenant_host"


def test_a_municipality_administrator_cannot_log_in_on_the_operator_host_and_the_attempt_is_logged(public_client):
    response = login(public_client, "A001", "Kanri#Demo2026")
    assert response.status_code == 200  # the log-in form again, with its error
    assert OperatorAuditEvent.objects.filter(action="login.failed", target__icontains="A001").exists()
    response = public_client.get("/console/tenants/new/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_municipality_session_is_worthless_on_the_operator_host(client_a, public_client, tenant_a):
    login(client_a, "A001", "Kanri#Demo2026")
    public_client.cookies["sessionid"] = client_a.cookies["sessionid"].value
    for url in CONSOLE_URLS:
        response = public_client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url
    response = public_client.post("/console/tenants/demo-a/suspend/")
    assert response.status_code == 302
    assert Tenant.objects.get(pk=tenant_a.pk).is_active
    response = public_client.post("/console/tenants/new/", {"slug": "intruder", "name": "x"})
    assert response.status_code == 302 and not TenantJob.objects.filter(tenant_slug="intruder").exists()


def test_a_disabled_operator_is_sent_back_to_the_log_in_page(public_client):
    from accounts.models import User

    login(public_client, "PREF-0001", "Unei#Demo2026")
    User.objects.filter(staff_number="PREF-0001").update(is_active=False)
    response = public_client.get("/console/tenants/demo-a/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_console_reads_refuse_a_municipality_user_even_when_called_directly(tenant_a):
    from django.core.exceptions import PermissionDenied
    from django.db import connection

    from accounts.models import User
    from tenants import queries

    connection.set_tenant(tenant_a)
    admin = User.objects.get(staff_number="A001")
    for read in (lambda: queries.municipality_rows(admin), lambda: queries.operator_events(admin),
                 lambda: queries.get_municipality_for_operator(admin, "demo-a")):
        with pytest.raises(PermissionDenied):
            read()
