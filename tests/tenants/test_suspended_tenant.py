"""A suspended municipality shows a maintenance page and refuses log-ins; its data stays."""

from django.db import connection

from accounts.models import User
from tenants.models import Tenant
from tests.conftest import login


def test_suspended_municipality_shows_a_maintenance_page_and_refuses_login(client_a, tenant_a):
    login(client_a, "A002", "Shokuin#Demo2026")
    Tenant.objects.filter(pk=tenant_a.pk).update(is_active=False)

    page = client_a.get("/")
    assert page.status_code == 503
    assert "停止中" in page.content.decode()
    assert login(client_a, "A002", "Shokuin#Demo2026").status_code == 503

    Tenant.objects.filter(pk=tenant_a.pk).update(is_active=True)
    assert client_a.get("/").status_code == 302  # the session was ended while suspended
    connection.set_tenant(tenant_a)
    assert User.objects.filter(staff_number="A002").exists()
