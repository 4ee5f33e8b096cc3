"""運営者アカウント: operators add, disable, re-enable and reset each other in the console (or with a command),
never lock the console out, and every change is in the operator trail."""

import io
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client

from accounts.models import User
from tenants.models import OperatorAuditEvent
from tenants.operators import create_operator, reset_operator_password, set_operator_active
from tests.conftest import PUBLIC_HOST, login

OPERATOR = ("PREF-0001", "Unei#Demo2026")
NEW_PASSWORD = "Jibun#Kimeta2026"

URLS = ["/console/operators/", "/console/operators/new/", "/console/operators/{pk}/",
        "/console/operators/{pk}/deactivate/", "/console/operators/{pk}/activate/",
        "/console/operators/{pk}/password/"]


def _operator_client(public_client) -> Client:
    assert login(public_client, *OPERATOR).status_code == 302
    return public_client


def _me() -> User:
    return User.objects.get(staff_number="PREF-0001")


def _one_time_password(response) -> str:
    assert response.status_code == 200, response.content.decode()[:2000]
    assert response["Cache-Control"] == "no-store"
    return re.search(r'data-testid="one-time-password">([^<]+)<', response.content.decode()).group(1)


def _second_operator(**overrides) -> tuple[User, str]:
    fields = {"staff_number": "PREF-0002", "email": "second@pref.example.jp", "full_name": "県 二郎"}
    fields.update(overrides)
    return create_operator(**fields, actor=_me())


def _logs_in(identifier: str, password: str) -> bool:
    """Whether a fresh browser gets a session (a disabled account is sent to allauth's 「アカウントが無効です」)."""
    client = Client(HTTP_HOST=PUBLIC_HOST)
    login(client, identifier, password)
    response = client.get("/console/operators/")
    return response.status_code == 200 or response["Location"] == "/accounts/password/change/"


def test_a_new_operator_logs_in_with_the_password_shown_once_and_must_change_it(public_client):
    console = _operator_client(public_client)
    form = console.get("/console/operators/new/").content.decode()
    for label in ("職員番号", "メールアドレス", "氏名", "csrfmiddlewaretoken"):
        assert label in form

    response = console.post("/console/operators/new/", {
        "staff_number": "ＰＲＥＦ－０００２", "email": "Jiro.Ken@Pref.Example.jp", "full_name": "県 二郎",
    })
    password = _one_time_password(response)
    operator = User.objects.get(staff_number="PREF-0002")  # folded to half-width
    assert operator.email == "jiro.ken@pref.example.jp" and operator.must_change_password
    assert operator.check_password(password) and password not in operator.password
    assert password not in str(list(OperatorAuditEvent.objects.values_list("detail", flat=True)))
    # Shown once: the list and the detail page do not repeat it.
    assert password not in console.get("/console/operators/").content.decode()
    assert password not in console.get(f"/console/operators/{operator.pk}/").content.decode()

    newcomer = Client(HTTP_HOST=PUBLIC_HOST)
    assert login(newcomer, "PREF-0002", password).status_code == 302
    forced = newcomer.get("/console/operators/")
    assert forced.status_code == 302 and forced["Location"] == "/accounts/password/change/"
    newcomer.post("/accounts/password/change/", {"oldpassword": password, "password1": NEW_PASSWORD,
                                                 "password2": NEW_PASSWORD})
    assert newcomer.get("/console/operators/").status_code == 200
    assert not User.objects.get(pk=operator.pk).must_change_password
    assert _logs_in("jiro.ken@pref.example.jp", NEW_PASSWORD)


def test_the_list_shows_every_operator_with_the_last_log_in(public_client):
    console = _operator_client(public_client)
    _second_operator()
    page = console.get("/console/operators/").content.decode()
    mine = page.split('data-testid="operator-row-PREF-0001"')[1].split("</tr>")[0]
    theirs = page.split('data-testid="operator-row-PREF-0002"')[1].split("</tr>")[0]
    assert "（自分）" in mine and "有効" in mine and re.search(r"\d{4}/\d{2}/\d{2} \d{2}:\d{2}", mine)
    assert "県 二郎" in theirs and "second@pref.example.jp" in theirs and "なし" in theirs
    assert "初期パスワードのまま" in theirs


def test_the_add_form_explains_mistakes_in_japanese(public_client):
    console = _operator_client(public_client)
    body = console.post("/console/operators/new/", {"staff_number": "", "email": "not-an-address",
                                                     "full_name": ""}).content.decode()
    assert "職員番号を入力してください。" in body and "氏名を入力してください。" in body
    assert "メールアドレスの形式が正しくありません" in body
    body = console.post("/console/operators/new/", {"staff_number": "pref-0001", "email": "OPERATOR@pref.example.jp",
                                                     "full_name": "重複 太郎"}).content.decode()
    assert "職員番号「PREF-0001」はすでに登録されています。" in body
    assert "メールアドレス「operator@pref.example.jp」はすでに登録されています。" in body
    assert User.objects.count() == 1


def test_an_operator_cannot_disable_themselves(public_client):
    console = _operator_client(public_client)
    _second_operator()
    me = _me()
    confirm = console.get(f"/console/operators/{me.pk}/deactivate/").content.decode()
    assert "自分自身のアカウントは無効にできません" in confirm
    assert 'data-testid="confirm-operator-action"' not in confirm
    response = console.post(f"/console/operators/{me.pk}/deactivate/", follow=True)
    assert "自分自身のアカウントは無効にできません" in response.content.decode()
    assert User.objects.get(pk=me.pk).is_active


def test_the_last_active_operator_cannot_be_disabled(db):
    me = _me()
    with pytest.raises(ValidationError, match="有効な運営者がこのアカウントだけのため"):
        set_operator_active(user=me, active=False, actor=None)
    # Two operators disabling each other: the second one, already disabled, cannot take the last one away.
    other, _ = _second_operator()
    set_operator_active(user=other, active=False, actor=me)
    with pytest.raises(ValidationError, match="有効な運営者がこのアカウントだけのため"):
        set_operator_active(user=me, active=False, actor=other)
    assert User.objects.get(pk=me.pk).is_active


def test_a_disabled_operator_cannot_log_in_until_enabled_again(public_client):
    console = _operator_client(public_client)
    other, password = _second_operator()
    other_session = Client(HTTP_HOST=PUBLIC_HOST)
    login(other_session, "PREF-0002", password)

    confirm = console.get(f"/console/operators/{other.pk}/deactivate/").content.decode()
    assert "を無効にしますか？" in confirm and "csrfmiddlewaretoken" in confirm
    assert User.objects.get(pk=other.pk).is_active  # the GET only asks
    response = console.post(f"/console/operators/{other.pk}/deactivate/")
    assert response.status_code == 302 and response["Location"] == f"/console/operators/{other.pk}/"
    assert not User.objects.get(pk=other.pk).is_active
    assert not _logs_in("PREF-0002", password)
    ended = other_session.get("/console/operators/")  # a session that was open ends too
    assert ended.status_code == 302 and ended["Location"].startswith("/accounts/login/")

    console.post(f"/console/operators/{other.pk}/activate/")
    assert User.objects.get(pk=other.pk).is_active
    assert _logs_in("PREF-0002", password)


def test_a_password_reset_gives_a_one_time_password_that_must_be_changed(public_client):
    console = _operator_client(public_client)
    other, first = _second_operator()
    User.objects.filter(pk=other.pk).update(must_change_password=False)

    assert "パスワードを再設定しますか？" in console.get(f"/console/operators/{other.pk}/password/").content.decode()
    password = _one_time_password(console.post(f"/console/operators/{other.pk}/password/"))
    assert password != first
    assert not _logs_in("PREF-0002", first)
    assert User.objects.get(pk=other.pk).must_change_password
    client = Client(HTTP_HOST=PUBLIC_HOST)
    login(client, "PREF-0002", password)
    assert client.get("/console/operators/")["Location"] == "/accounts/password/change/"

    # One's own password is changed on the password page, not reset here.
    with pytest.raises(ValidationError, match="パスワード変更"):
        reset_operator_password(user=_me(), actor=_me())


def test_every_change_is_in_the_operator_audit_trail(public_client):
    console = _operator_client(public_client)
    console.post("/console/operators/new/", {"staff_number": "PREF-0003", "email": "third@pref.example.jp",
                                             "full_name": "県 三郎"})
    other = User.objects.get(staff_number="PREF-0003")
    console.post(f"/console/operators/{other.pk}/deactivate/")
    console.post(f"/console/operators/{other.pk}/activate/")
    console.post(f"/console/operators/{other.pk}/password/")
    events = OperatorAuditEvent.objects.filter(target="user:PREF-0003").order_by("id")
    assert [e.action for e in events] == ["user.create", "user.disable", "user.enable", "user.password_reset"]
    assert all(e.actor_id == _me().pk and e.ip_address for e in events)
    detail = console.get(f"/console/operators/{other.pk}/").content.decode().split('data-testid="operator-events"')[1]
    assert "user.disable" in detail and "user.password_reset" in detail


def test_municipality_administrators_cannot_reach_the_operator_pages(client_a, public_client):
    pk = _me().pk
    login(client_a, "A001", "Kanri#Demo2026")
    for url in URLS:
        assert client_a.get(url.format(pk=pk)).status_code == 404, url
        assert client_a.post(url.format(pk=pk)).status_code == 404, url
    login(public_client, "A001", "Kanri#Demo2026")  # refused on the operator host
    for url in URLS:
        response = public_client.get(url.format(pk=pk))
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url
    response = public_client.post("/console/operators/new/", {"staff_number": "X1", "email": "x@example.jp",
                                                               "full_name": "侵入"})
    assert response.status_code == 302 and not User.objects.filter(staff_number="X1").exists()
    public_client.post(f"/console/operators/{pk}/password/")
    assert _me().check_password(OPERATOR[1])


def test_the_services_refuse_to_run_in_a_municipalitys_schema(tenant_a):
    connection.set_tenant(tenant_a)
    admin = User.objects.get(staff_number="A001")
    with pytest.raises(PermissionDenied):
        create_operator(staff_number="PREF-0009", email="x@pref.example.jp", full_name="x", actor=None)
    with pytest.raises(PermissionDenied):
        set_operator_active(user=admin, active=False, actor=admin)
    with pytest.raises(PermissionDenied):
        reset_operator_password(user=admin, actor=None)
    assert not User.objects.filter(staff_number="PREF-0009").exists() and admin.is_active


def test_the_command_creates_an_operator_and_prints_the_one_time_password(db):
    out = io.StringIO()
    call_command("operator_create", "--staff-number", "PREF-0002", "--email", "cmd@pref.example.jp",
                 "--name", "県 コマンド", stdout=out)
    password = re.search(r"初期パスワード（この一度だけ表示します）: (\S+)", out.getvalue()).group(1)
    operator = User.objects.get(staff_number="PREF-0002")
    assert operator.check_password(password) and operator.must_change_password and operator.full_name == "県 コマンド"
    assert OperatorAuditEvent.objects.filter(action="user.create", target="user:PREF-0002").exists()
    assert _logs_in("PREF-0002", password)


def test_the_command_reads_the_password_from_stdin_and_applies_the_password_rules(db):
    out = io.StringIO()
    call_command("operator_create", "--staff-number", "PREF-0004", "--email", "stdin@pref.example.jp",
                 "--name", "県 四郎", "--password-stdin", stdin=io.StringIO(NEW_PASSWORD + "\n"), stdout=out)
    assert NEW_PASSWORD not in out.getvalue() and "初期パスワード" not in out.getvalue()
    assert User.objects.get(staff_number="PREF-0004").check_password(NEW_PASSWORD)
    with pytest.raises(CommandError, match=r"短すぎます|文字以上"):
        call_command("operator_create", "--staff-number", "PREF-0005", "--email", "short@pref.example.jp",
                     "--name", "県 五郎", "--password-stdin", stdin=io.StringIO("abc\n"), stdout=io.StringIO())
    assert not User.objects.filter(staff_number="PREF-0005").exists()


def test_the_command_explains_duplicates_and_bad_addresses_in_japanese(db):
    with pytest.raises(CommandError, match="職員番号「PREF-0001」はすでに登録されています。"):
        call_command("operator_create", "--staff-number", "PREF-0001", "--email", "new@pref.example.jp",
                     "--name", "重複", stdout=io.StringIO())
    with pytest.raises(CommandError, match="メールアドレスの形式が正しくありません"):
        call_command("operator_create", "--staff-number", "PREF-0006", "--email", "not-an-address",
                     "--name", "県 六郎", stdout=io.StringIO())
    assert User.objects.count() == 1
