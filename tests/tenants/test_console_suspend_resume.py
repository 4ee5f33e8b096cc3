"""The console's 停止 button locks a municipality's staff out (maintenance page), 再開 lets them in again;
nothing is lost and both are audited."""

from django.db import connection

from accounts.models import User
from tenants.models import OperatorAuditEvent, Tenant
from tests.conftest import login

OPERATOR = ("PREF-0001", "Unei#Demo2026")


def test_a_suspended_municipality_refuses_login_after_the_console_stop_and_works_after_resume(
        public_client, client_a, tenant_a):
    login(public_client, *OPERATOR)
    login(client_a, "A002", "Shokuin#Demo2026")
    assert client_a.get("/").status_code == 200

    confirm = public_client.get("/console/tenants/demo-a/suspend/").content.decode()
    assert "停止しますか" in confirm and "データは削除されません" in confirm
    response = public_client.post("/console/tenants/demo-a/suspend/", follow=True)
    assert "停止しました" in response.content.decode()
    tenant = Tenant.objects.get(pk=tenant_a.pk)
    assert not tenant.is_active and tenant.suspended_at is not None

    page = client_a.get("/")  # the signed-in user is signed out and sees the maintenance page
    assert page.status_code == 503 and "停止中" in page.content.decode()
    assert login(client_a, "A002", "Shokuin#Demo2026").status_code == 503
    assert "停止中" in public_client.get("/").content.decode()
    assert "停止中" in public_client.get("/?state=suspended").content.decode()

    assert "再開しますか" in public_client.get("/console/tenants/demo-a/resume/").content.decode()
    response = public_client.post("/console/tenants/demo-a/resume/", follow=True)
    assert "再開しました" in response.content.decode()
    tenant.refresh_from_db()
    assert tenant.is_active and tenant.suspended_at is None
    assert login(client_a, "A002", "Shokuin#Demo2026").status_code == 302
    assert client_a.get("/").status_code == 200

    actions = list(OperatorAuditEvent.objects.filter(target="tenant:demo-a").values_list("action", flat=True))
    assert "tenant.suspend" in actions and "tenant.resume" in actions
    connection.set_tenant(tenant_a)
    assert User.objects.filter(staff_number__in=["A001", "A002", "A003"]).count() == 3  # nothing was lost


def test_stopping_twice_is_harmless(public_client, tenant_b):
    login(public_client, *OPERATOR)
    public_client.post("/console/tenants/demo-b/suspend/")
    response = public_client.post("/console/tenants/demo-b/suspend/", follow=True)
    assert "すでに停止しています" in response.content.decode()
    assert OperatorAuditEvent.objects.filter(action="tenant.suspend", target="tenant:demo-b").count() == 1
