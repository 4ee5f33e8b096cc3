"""Staff log in at their own municipality by staff number or e-mail address."""

from django.contrib.auth import get_user_model

from audit.models import AuditEvent
from tests.conftest import login, page_h1

WRONG = "職員番号・メールアドレスまたはパスワードが正しくありません。"


def test_staff_logs_in_with_staff_number_and_lands_on_their_municipalitys_home(client_a):
    response = login(client_a, "A002", "Shokuin#Demo2026")
    assert response.status_code == 302
    home = client_a.get("/")
    assert home.status_code == 200
    body = home.content.decode()
    assert "あかぎ市（デモ）" in body
    assert "佐藤 花子" in body


def test_staff_logs_in_with_email_address_in_any_case(client_a):
    response = login(client_a, "Sato@City.Akagi.Example.JP", "Shokuin#Demo2026")
    assert response.status_code == 302
    assert "ようこそ、佐藤 花子 さん" in page_h1(client_a.get("/"))[0]


def test_full_width_staff_number_typed_through_an_ime_is_accepted(client_a):
    response = login(client_a, "Ａ００２", "Shokuin#Demo2026")
    assert response.status_code == 302


def test_wrong_password_and_unknown_user_get_the_same_japanese_message(client_a):
    wrong_password = login(client_a, "A002", "not-the-password")
    unknown_user = login(client_a, "Z999", "not-the-password")
    for response in (wrong_password, unknown_user):
        assert response.status_code == 200
        assert WRONG in response.content.decode()
    assert client_a.get("/").status_code == 302  # still logged out


def test_failed_and_successful_logins_are_audited(client_a, tenant_a):
    from django.db import connection

    login(client_a, "A003", "wrong-password-1")
    login(client_a, "A003", "Shokuin#Demo2026")
    connection.set_tenant(tenant_a)
    actions = list(AuditEvent.objects.filter(target__in=["A003", "user:A003"]).values_list("action", flat=True))
    assert "login.failed" in actions
    assert "login" in actions
    failed = AuditEvent.objects.filter(action="login.failed", target="A003").first()
    assert "wrong-password" not in str(failed.detail)  # the password itself is never recorded


def test_disabled_user_cannot_log_in_and_is_told_why(client_a, tenant_a):
    from django.db import connection

    connection.set_tenant(tenant_a)
    get_user_model().objects.filter(staff_number="A003").update(is_active=False)
    connection.set_schema_to_public()
    response = login(client_a, "A003", "Shokuin#Demo2026")
    follow = client_a.get(response["Location"]) if response.status_code == 302 else response
    assert "アカウントが無効です" in follow.content.decode()
    assert client_a.get("/").status_code == 302


def test_logout_ends_the_session(client_a):
    login(client_a, "A002", "Shokuin#Demo2026")
    assert client_a.get("/").status_code == 200
    response = client_a.post("/accounts/logout/")
    assert response.status_code == 302
    assert client_a.get("/").status_code == 302


def test_login_page_is_japanese_with_labelled_fields(client_a):
    body = client_a.get("/accounts/login/").content.decode()
    assert '<html lang="ja">' in body
    assert '<label for="id_login">職員番号またはメールアドレス</label>' in body
    assert '<label for="id_password">パスワード</label>' in body
    assert "あかぎ市（デモ）" in body
