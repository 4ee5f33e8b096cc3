"""Administrators see and reach the admin area; general users neither see nor reach it."""

from django.db import connection

from audit.models import AuditEvent
from tests.conftest import login


def test_admin_sees_the_admin_navigation(client_a):
    login(client_a, "A001", "Kanri#Demo2026")
    body = client_a.get("/").content.decode()
    assert 'data-testid="admin-nav"' in body
    for slot in ("チャット", "ナレッジ", "テンプレート", "学習"):
        assert slot in body


def test_general_user_sees_no_admin_navigation(client_a):
    login(client_a, "A002", "Shokuin#Demo2026")
    body = client_a.get("/").content.decode()
    assert 'data-testid="admin-nav"' not in body
    assert "管理</a>" not in body


def test_general_user_gets_403_on_the_admin_screen_and_the_attempt_is_logged(client_a, tenant_a):
    login(client_a, "A002", "Shokuin#Demo2026")
    response = client_a.get("/manage/")
    assert response.status_code == 403
    assert "権限がありません" in response.content.decode()
    connection.set_tenant(tenant_a)
    denied = AuditEvent.objects.filter(action="access.denied", target="/manage/").first()
    assert denied is not None and denied.actor_label.startswith("佐藤 花子")


def test_admin_screen_lists_users_with_roles(client_a):
    login(client_a, "A001", "Kanri#Demo2026")
    response = client_a.get("/manage/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "sato@city.akagi.example.jp" in body and "一般利用者" in body and "管理者" in body


def test_anonymous_visitor_is_sent_to_the_login_page(client_a):
    response = client_a.get("/manage/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
