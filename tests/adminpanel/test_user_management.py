"""利用者管理: administrators find, create, edit, disable, re-enable, delete users and reset passwords."""

import re

from django.db import connection

from accounts.models import User
from audit.models import AuditEvent
from tenants.models import Tenant
from tests.conftest import login


def _admin(client):
    assert login(client, "A001", "Kanri#Demo2026").status_code == 302
    return client


def _in_a(tenant_a):
    connection.set_tenant(tenant_a)


def test_the_list_can_be_searched_and_filtered_and_shows_the_seat_count(client_a):
    admin = _admin(client_a)
    body = admin.get("/manage/users/").content.decode()
    assert "有効な利用者 <strong>3</strong> / <strong>50</strong> 名" in body
    assert "A002" in body and "A003" in body
    found = admin.get("/manage/users/", {"text": "佐藤"}).content.decode()
    assert "A002" in found and "A003" not in found
    admins = admin.get("/manage/users/", {"role": "admin"}).content.decode()
    assert "A001" in admins and "A002" not in admins


def test_an_admin_creates_a_user_who_must_change_the_initial_password(client_a, tenant_a):
    admin = _admin(client_a)
    response = admin.post("/manage/users/new/", {"staff_number": "Ｎ１０１", "email": "n101@city.akagi.example.jp",
                                                  "full_name": "新人 一郎", "department": "総務課", "role": "general"},
                          follow=True)
    body = response.content.decode()
    password = re.search(r'data-testid="one-time-password">([^<]+)<', body).group(1)
    _in_a(tenant_a)
    user = User.objects.get(staff_number="N101")
    assert user.must_change_password and user.check_password(password)
    connection.set_schema_to_public()

    from django.test import Client

    newcomer = Client(HTTP_HOST="demo-a.localhost")
    login(newcomer, "N101", password)
    forced = newcomer.get("/chat/")
    assert forced.status_code == 302 and forced["Location"] == "/accounts/password/change/"
    newcomer.post("/accounts/password/change/", {"oldpassword": password, "password1": "Atarashii#Kotoba2026",
                                                 "password2": "Atarashii#Kotoba2026"})
    assert newcomer.get("/chat/").status_code == 200
    _in_a(tenant_a)
    assert not User.objects.get(staff_number="N101").must_change_password


def test_creating_a_user_with_a_duplicate_staff_number_shows_the_error(client_a):
    admin = _admin(client_a)
    body = admin.post("/manage/users/new/", {"staff_number": "A002", "email": "x@city.akagi.example.jp",
                                              "role": "general"}).content.decode()
    assert "職員番号「A002」はすでに登録されています。" in body


def test_creating_beyond_the_seat_cap_is_refused_with_the_cap_named(client_a, tenant_a):
    Tenant.objects.filter(pk=tenant_a.pk).update(seat_cap=3)
    admin = _admin(client_a)
    body = admin.post("/manage/users/new/", {"staff_number": "N102", "email": "n102@city.akagi.example.jp",
                                              "role": "general"}).content.decode()
    assert "利用者数の上限（3名）" in body


def test_edit_disable_enable_reset_and_delete_are_audited(client_a, tenant_a):
    admin = _admin(client_a)
    _in_a(tenant_a)
    sato = User.objects.get(staff_number="A002")
    connection.set_schema_to_public()
    admin.post(f"/manage/users/{sato.pk}/", {"email": sato.email, "full_name": "佐藤 花子", "department": "企画課",
                                              "role": "admin"})
    admin.post(f"/manage/users/{sato.pk}/action/", {"action": "disable"})
    admin.post(f"/manage/users/{sato.pk}/action/", {"action": "enable"})
    reset = admin.post(f"/manage/users/{sato.pk}/action/", {"action": "reset_password"}, follow=True)
    assert "初期パスワード（この一度だけ表示します）" in reset.content.decode()
    admin.post(f"/manage/users/{sato.pk}/action/", {"action": "delete"})
    _in_a(tenant_a)
    assert not User.objects.filter(staff_number="A002").exists()
    actions = set(AuditEvent.objects.filter(target="user:A002").values_list("action", flat=True))
    assert {"user.update", "user.disable", "user.enable", "user.password_reset", "user.delete"} <= actions
    # The deleted user's earlier events keep their name.
    assert AuditEvent.objects.filter(action="user.create", target="user:A002").exists()


def test_an_admin_cannot_delete_or_disable_themselves(client_a, tenant_a):
    admin = _admin(client_a)
    _in_a(tenant_a)
    me = User.objects.get(staff_number="A001")
    connection.set_schema_to_public()
    response = admin.post(f"/manage/users/{me.pk}/action/", {"action": "delete"}, follow=True)
    assert "自分自身は削除できません" in response.content.decode()
    response = admin.post(f"/manage/users/{me.pk}/action/", {"action": "disable"}, follow=True)
    assert "自分自身は無効にできません" in response.content.decode()
    _in_a(tenant_a)
    assert User.objects.get(pk=me.pk).is_active


def test_a_user_id_of_another_municipality_is_not_found(client_a, client_b, tenant_b):
    connection.set_tenant(tenant_b)
    other = User.objects.get(staff_number="B002")
    connection.set_schema_to_public()
    admin = _admin(client_a)
    # demo-a may have a user with the same numeric id; the page must show demo-a's user, never B002.
    body = admin.get(f"/manage/users/{other.pk}/").content.decode()
    assert "B002" not in body and "はるな" not in body
