"""A municipality sees nothing of another: rows, log-ins, sessions and unknown hosts."""

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client

from accounts import services
from accounts.models import User
from audit.models import AuditEvent
from audit.services import record
from tests.conftest import HOST_B, login, page_h1

WRONG = "職員番号・メールアドレスまたはパスワードが正しくありません。"


def _tenant_models():
    tenant_labels = {name.rsplit(".", 1)[-1] for name in settings.TENANT_APPS}
    return [model for model in apps.get_models() if model._meta.app_label in tenant_labels]


def test_every_row_created_in_tenant_a_is_invisible_from_tenant_b(tenant_a, tenant_b):
    connection.set_tenant(tenant_b)
    before = {model: model.objects.count() for model in _tenant_models()}

    connection.set_tenant(tenant_a)
    user = services.create_user(staff_number="ISO1", email="iso1@city.akagi.example.jp",
                                password="Kakuri#Test2026", groups=["秘書課"])
    record(action="test.isolation", actor=user, target="isolation-marker")
    Session.objects.create(session_key="iso-session-key-a", session_data="x", expire_date="2099-01-01T00:00Z")
    a_counts = {model: model.objects.count() for model in _tenant_models()}

    connection.set_tenant(tenant_b)
    after = {model: model.objects.count() for model in _tenant_models()}
    assert after == before
    assert not User.objects.filter(staff_number="ISO1").exists()
    assert not Group.objects.filter(name="秘書課").exists()
    assert not AuditEvent.objects.filter(target="isolation-marker").exists()
    assert not Session.objects.filter(session_key="iso-session-key-a").exists()
    # and tenant A really holds those rows, so the comparison above is not vacuous
    assert a_counts[User] > before[User] - 1 and a_counts[AuditEvent] >= 1


def test_the_same_staff_number_can_exist_in_two_municipalities(tenant_a, tenant_b):
    connection.set_tenant(tenant_a)
    services.create_user(staff_number="7777", email="same@example.lg.jp", password="Onaji#Bango2026")
    connection.set_tenant(tenant_b)
    services.create_user(staff_number="7777", email="same@example.lg.jp", password="Betsu#Bango2026")
    assert User.objects.get(staff_number="7777").check_password("Betsu#Bango2026")


def test_staff_of_tenant_a_cannot_log_in_on_tenant_b_host(client_b):
    for identifier in ("A002", "sato@city.akagi.example.jp"):
        response = login(client_b, identifier, "Shokuin#Demo2026")
        assert response.status_code == 200
        body = response.content.decode()
        assert WRONG in body  # the same words as a wrong password: nothing says the account exists elsewhere
        assert "あかぎ" not in body
    assert client_b.get("/").status_code == 302


def test_a_session_from_tenant_a_is_worthless_on_tenant_b(client_a):
    login(client_a, "A002", "Shokuin#Demo2026")
    assert client_a.get("/").status_code == 200
    stolen = client_a.cookies[settings.SESSION_COOKIE_NAME].value
    other = Client(HTTP_HOST=HOST_B)
    other.cookies[settings.SESSION_COOKIE_NAME] = stolen
    response = other.get("/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_admin_of_tenant_a_cannot_open_tenant_b_admin_screen(client_b):
    client_b.cookies.clear()
    response = client_b.get("/manage/")
    assert response.status_code == 302  # not logged in there, whatever happened on demo-a


def test_unknown_host_gets_a_japanese_page_that_names_no_municipality(db):
    response = Client(HTTP_HOST="nosuchcity.localhost").get("/")
    assert response.status_code == 404
    body = response.content.decode()
    assert page_h1(response) == ["このアドレスの利用団体は見つかりません"]
    for name in ("あかぎ", "はるな", "みょうぎ", "demo-a", "demo-b"):
        assert name not in body


def test_staff_of_a_municipality_cannot_log_in_to_the_operator_console(public_client):
    response = login(public_client, "A001", "Kanri#Demo2026")
    assert WRONG in response.content.decode()
    assert public_client.get("/").status_code == 302


def test_operator_logs_in_on_the_public_host_and_sees_every_municipality(public_client):
    assert login(public_client, "PREF-0001", "Unei#Demo2026").status_code == 302
    response = public_client.get("/")
    body = response.content.decode()
    assert response.status_code == 200
    for name, domain in (("あかぎ市（デモ）", "demo-a.localhost"), ("はるな町（デモ）", "demo-b.localhost"),
                         ("みょうぎ村（デモ）", "demo-c.localhost")):
        assert name in body and domain in body
    assert "3 / 50" in body  # active users / seat cap


def test_operator_credentials_do_not_work_on_a_municipality_host(client_a):
    response = login(client_a, "PREF-0001", "Unei#Demo2026")
    assert WRONG in response.content.decode()
