"""An administrator adds, changes and deletes users from a CSV or Excel file: preview first, then all at once."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from accounts.models import User
from audit.models import AuditEvent
from audit.services import record
from tests.conftest import login

HEADER = ["職員番号", "氏名", "メールアドレス", "所属", "権限", "グループ", "操作", "初期パスワード"]
ADMIN_PASSWORD = "Kanri#Demo2026"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Django's default PBKDF2 costs ~0.3 s a password; the import logic does not depend on the work factor.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher",
                                 "django.contrib.auth.hashers.PBKDF2PasswordHasher"]


def csv_bytes(rows: list[list[str]], *, encoding: str = "utf-8-sig", header: list[str] = HEADER) -> bytes:
    """A CSV as Excel on Japanese Windows saves it: CRLF line ends, UTF-8 with BOM or Shift_JIS (CP932)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def as_admin(client):
    login(client, "A001", ADMIN_PASSWORD)
    return client


def upload(client, data: bytes, name: str = "users.csv"):
    return client.post("/manage/users/import/", {"file": SimpleUploadedFile(name, data)})


def preview_url(response) -> str:
    assert response.status_code == 302, response.content.decode()[:2000]
    assert re.fullmatch(r"/manage/users/import/[A-Za-z0-9_-]+/", response.url)
    return response.url


def apply(client, url: str, capture):
    """POST the preview; the result and the passwords are cached only once the transaction commits."""
    with capture(execute=True):
        response = client.post(url)
    assert response.status_code == 302
    return client.get(response.url)


def text(response) -> str:
    return response.content.decode()


def in_tenant_a(tenant_a):
    connection.set_tenant(tenant_a)


def test_admin_previews_and_applies_a_utf8_csv_with_bom(client_a, tenant_a, django_capture_on_commit_callbacks):
    in_tenant_a(tenant_a)
    Group.objects.create(name="子育て支援")
    Group.objects.create(name="防災")
    admin = as_admin(client_a)
    data = csv_bytes([
        ["A101", "山田 太郎", "taro.yamada@city.akagi.example.jp", "総務課", "一般利用者", "子育て支援;防災", "追加",
         ""],
        ["A102", "田中 次郎", "jiro@city.akagi.example.jp", "財政課", "管理者", "", "追加", "生成"],
        ["A103", "高橋 三郎", "saburo@city.akagi.example.jp", "", "", "防災", "追加", "Haruna#Spring2026"],
    ])
    assert data.startswith(b"\xef\xbb\xbf")
    url = preview_url(upload(admin, data))

    page = admin.get(url)
    body = text(page)
    assert page.status_code == 200
    assert body.count("追加します") == 3
    assert "追加 <strong>3</strong>名" in body and "エラー <strong>0</strong>行" in body
    assert "3名 → <strong>6</strong>名" in body and "上限 50名" in body
    in_tenant_a(tenant_a)
    assert not User.objects.filter(staff_number__in=["A101", "A102", "A103"]).exists()  # a preview changes nothing

    done = apply(admin, url, django_capture_on_commit_callbacks)
    assert "反映しました（追加 3名、変更 0名、削除 0名）" in text(done)
    assert 'data-testid="passwords-link"' in text(done)
    in_tenant_a(tenant_a)
    taro = User.objects.get(staff_number="A101")
    assert (taro.full_name, taro.email, taro.department, taro.role) == (
        "山田 太郎", "taro.yamada@city.akagi.example.jp", "総務課", "general")
    assert sorted(taro.groups.values_list("name", flat=True)) == ["子育て支援", "防災"]
    assert taro.must_change_password and taro.is_active
    assert User.objects.get(staff_number="A102").role == "admin"
    assert User.objects.get(staff_number="A103").check_password("Haruna#Spring2026")
    event = AuditEvent.objects.get(action="users.import")
    assert event.actor_id == User.objects.get(staff_number="A001").pk
    assert (event.detail["added"], event.detail["changed"], event.detail["deleted"]) == (3, 0, 0)
    assert event.detail["file_name"] == "users.csv"
    assert not AuditEvent.objects.filter(action="user.create", target__startswith="user:A10").exists()  # one event


def test_a_shift_jis_csv_from_excel_with_machine_dependent_characters_is_read(
        client_a, tenant_a, django_capture_on_commit_callbacks):
    admin = as_admin(client_a)
    data = csv_bytes([
        ["A201", "髙橋 一郎", "takahashi@city.akagi.example.jp", "①係", "一般利用者", "", "追加", "生成"],
        ["A202", "﨑山 花子", "sakiyama@city.akagi.example.jp", "㈱出向", "一般利用者", "", "追加", "生成"],
    ], encoding="cp932")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    url = preview_url(upload(admin, data))
    body = text(admin.get(url))
    assert "髙橋 一郎" in body and "①係" in body and "㈱出向" in body
    assert body.count("追加します") == 2

    apply(admin, url, django_capture_on_commit_callbacks)
    in_tenant_a(tenant_a)
    assert User.objects.get(staff_number="A201").full_name == "髙橋 一郎"
    assert User.objects.get(staff_number="A201").department == "①係"
    assert User.objects.get(staff_number="A202").department == "㈱出向"


def test_an_xlsx_file_with_numeric_staff_numbers_is_previewed_and_applied(
        client_a, tenant_a, django_capture_on_commit_callbacks):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append([30001, "Excel 花子", "hanako.excel@city.akagi.example.jp", "企画課", "一般利用者", None, "追加",
                  None])
    sheet.append([None] * 8)  # an empty row Excel leaves behind
    sheet.append(["３０００２", "Excel 次郎", "JIRO.EXCEL@City.Akagi.Example.JP", "企画課", "管理者", None, "追加",
                  "生成"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    admin = as_admin(client_a)
    url = preview_url(upload(admin, buffer.getvalue(), name="職員一覧.xlsx"))
    body = text(admin.get(url))
    assert body.count("追加します") == 2
    assert "4行目" in body  # rows keep the numbers Excel shows

    apply(admin, url, django_capture_on_commit_callbacks)
    in_tenant_a(tenant_a)
    assert User.objects.get(staff_number="30001").full_name == "Excel 花子"
    assert User.objects.get(staff_number="30002").email == "jiro.excel@city.akagi.example.jp"  # normalised
    assert AuditEvent.objects.get(action="users.import").detail["file_name"] == "職員一覧.xlsx"


def test_change_updates_profile_role_and_groups_and_is_audited(
        client_a, tenant_a, django_capture_on_commit_callbacks):
    in_tenant_a(tenant_a)
    Group.objects.create(name="防災")
    sato = User.objects.get(staff_number="A002")
    sato.groups.add(Group.objects.create(name="市民課チーム"))
    admin = as_admin(client_a)
    data = csv_bytes([
        ["A002", "佐藤 花子（旧姓 伊藤）", "", "財政課", "管理者", "防災", "変更", ""],
        ["A003", "", "", "", "", "", "変更", ""],
    ])
    url = preview_url(upload(admin, data))
    body = text(admin.get(url))
    assert "変更します（氏名、所属、権限、グループ）" in body
    assert "変更はありません" in body

    apply(admin, url, django_capture_on_commit_callbacks)
    in_tenant_a(tenant_a)
    sato.refresh_from_db()
    assert (sato.full_name, sato.department, sato.role) == ("佐藤 花子（旧姓 伊藤）", "財政課", "admin")
    assert sato.email == "sato@city.akagi.example.jp"  # empty cell: unchanged
    assert list(sato.groups.values_list("name", flat=True)) == ["防災"]
    assert not sato.must_change_password  # no password given: the user keeps theirs
    assert sato.check_password("Shokuin#Demo2026")
    event = AuditEvent.objects.get(action="users.import")
    assert event.detail["changed"] == 1 and event.detail["unchanged"] == 1
    assert event.detail["changed_columns"] == {"A002": ["氏名", "所属", "権限", "グループ"]}


def test_change_with_generate_resets_the_password_and_nashi_removes_all_groups(
        client_a, tenant_a, django_capture_on_commit_callbacks):
    in_tenant_a(tenant_a)
    suzuki = User.objects.get(staff_number="A003")
    suzuki.groups.add(Group.objects.create(name="福祉チーム"))
    admin = as_admin(client_a)
    url = preview_url(upload(admin, csv_bytes([["A003", "", "", "", "", "なし", "変更", "生成"]])))
    assert "変更します（グループ、初期パスワード）" in text(admin.get(url))
    apply(admin, url, django_capture_on_commit_callbacks)
    download = admin.get(f"{url}passwords/")
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[1][:3] == ["A003", "鈴木 一郎", "suzuki@city.akagi.example.jp"]
    in_tenant_a(tenant_a)
    suzuki.refresh_from_db()
    assert suzuki.groups.count() == 0
    assert suzuki.must_change_password and suzuki.check_password(rows[1][3])


def test_delete_removes_the_user_but_keeps_their_audit_events_and_usage_records(
        client_a, tenant_a, django_capture_on_commit_callbacks):
    from chat.models import Conversation
    from usage.models import UsageRecord

    in_tenant_a(tenant_a)
    suzuki = User.objects.get(staff_number="A003")
    login_event = record(action="user.login", actor=suzuki, target="user:A003")
    UsageRecord.objects.create(month=date.today().replace(day=1), user=suzuki, user_label=str(suzuki), status="sent",
                               prompt_chars=10)
    Conversation.objects.create(owner=suzuki, title="ごみ出し")
    admin = as_admin(client_a)
    url = preview_url(upload(admin, csv_bytes([["A003", "", "", "", "", "", "削除", ""]])))
    body = text(admin.get(url))
    assert "削除します" in body and "3名 → <strong>2</strong>名" in body

    done = apply(admin, url, django_capture_on_commit_callbacks)
    assert "削除 1名" in text(done)
    in_tenant_a(tenant_a)
    assert not User.objects.filter(staff_number="A003").exists()
    kept = AuditEvent.objects.get(pk=login_event.pk)
    assert kept.actor_id == suzuki.pk and kept.actor_label == "鈴木 一郎（A003）"
    usage = UsageRecord.objects.get()
    assert usage.user is None and usage.user_label == "鈴木 一郎（A003）"
    assert not Conversation.objects.filter(title="ごみ出し").exists()
    event = AuditEvent.objects.get(action="users.import")
    assert event.detail["deleted_users"] == [
        {"staff_number": "A003", "full_name": "鈴木 一郎", "email": "suzuki@city.akagi.example.jp"}]


def test_the_template_downloads_as_csv_with_bom_and_as_xlsx_and_previews_cleanly(client_a):
    from openpyxl import load_workbook

    admin = as_admin(client_a)
    response = admin.get("/manage/users/import/template/?format=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == HEADER and len(rows) == 2 and rows[1][6] == "追加"

    xlsx = admin.get("/manage/users/import/template/?format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content), read_only=True).worksheets[0]
    assert [c.value for c in next(sheet.iter_rows())] == HEADER

    url = preview_url(upload(admin, response.content, name="template.csv"))
    assert "追加します" in text(admin.get(url)) and "エラー <strong>0</strong>行" in text(admin.get(url))


def test_the_upload_page_names_the_columns_and_the_limits(client_a):
    body = text(as_admin(client_a).get("/manage/users/import/"))
    assert '<label for="import-file">' in body
    assert "20,000行" in body and "1,000行" in body and "10MB" in body
    assert "?format=csv" in body and "?format=xlsx" in body
