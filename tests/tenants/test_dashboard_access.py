"""Only the prefecture's operator sees the usage dashboard; a municipality's host does not have it at all."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from tenants.crossing import in_tenant
from tenants.dashboard import export_table, month_dashboard
from tests.conftest import login
from tests.tenants.test_dashboard_summary import OCTOBER

URLS = ["/console/dashboard/", "/console/dashboard/demo-a/", "/console/dashboard/export.csv",
        "/console/dashboard/demo-a/export.xlsx"]


@pytest.mark.parametrize("who", [("A001", "Kanri#Demo2026"), ("A002", "Shokuin#Demo2026")])
def test_a_municipalitys_admin_or_staff_gets_404_on_their_own_host(client_a, who):
    assert login(client_a, *who).status_code == 302
    for url in URLS:
        assert client_a.get(url).status_code == 404, url


def test_municipality_staff_cannot_log_in_on_the_operator_host(public_client):
    response = login(public_client, "A001", "Kanri#Demo2026")
    assert response.status_code == 200  # the log-in form again: the operator host has no such account
    for url in URLS:
        response = public_client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


def test_the_reads_refuse_anyone_but_an_operator(tenant_a):
    from accounts.models import User

    with in_tenant(tenant_a):
        admin = User.objects.get(staff_number="A001")
        with pytest.raises(PermissionDenied):
            month_dashboard(admin, OCTOBER)
        with pytest.raises(PermissionDenied):
            export_table(admin, OCTOBER)


def test_the_operator_can_refresh_todays_summary_at_once_and_it_is_logged(public_client, tenant_a):
    import datetime as dt

    from tenants.models import DailyUsageSummary, OperatorAuditEvent
    from tenants.summary import tokyo_today
    from tests.conftest import login as log_in

    DailyUsageSummary.objects.filter(day=tokyo_today()).delete()
    log_in(public_client, "PREF-0001", "Unei#Demo2026")
    assert public_client.get("/console/dashboard/refresh/").status_code == 405  # a change needs a POST
    response = public_client.post("/console/dashboard/refresh/")
    assert response.status_code == 302 and response["Location"] == "/console/dashboard/"
    assert DailyUsageSummary.objects.filter(tenant=tenant_a, day=tokyo_today()).exists()
    assert DailyUsageSummary.objects.filter(tenant=tenant_a, day=tokyo_today() - dt.timedelta(days=1)).exists()
    assert OperatorAuditEvent.objects.filter(action="usage.summarize").exists()
