"""The import's guarantees: the seat cap over the whole file, all-or-nothing, one-time passwords, no foreign tokens."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection

from accounts import bulk_import
from accounts.models import User
from accounts.services import create_user
from audit.models import AuditEvent
from tenants.models import Tenant
from tests.adminpanel.test_user_import import (  # noqa: F401 - the fixture is used by every test here
    apply,
    as_admin,
    csv_bytes,
    fast_password_hashing,
    preview_url,
    text,
    upload,
)
from tests.conftest import login


def add_rows(*numbers: str) -> list[list[str]]:
    return [[n, f"職員 {n}", f"{n.lower()}@city.akagi.example.jp", "", "", "", "追加", ""] for n in numbers]


def test_the_seat_cap_is_checked_for_the_whole_file_and_deletions_free_seats(client_a, tenant_a):
    Tenant.objects.filter(pk=tenant_a.pk).update(seat_cap=5)
    admin = as_admin(client_a)
    body = text(admin.get(preview_url(upload(admin, csv_bytes(add_rows("A111", "A112", "A113"))))))
    assert "利用者数の上限（5名）を超えます。この取り込みを反映すると有効な利用者が6名になります" in body
    assert "（現在3名、追加3名、削除による減少0名）。追加を1名分減らすか" in body
    assert "エラー <strong>0</strong>行" in body and "エラーがあるため反映できません" in body

    rows = [*add_rows("A111", "A112", "A113"), ["A003", "", "", "", "", "", "削除", ""]]
    body = text(admin.get(preview_url(upload(admin, csv_bytes(rows)))))
    assert "利用者数の上限" not in body and "3名 → <strong>5</strong>名 ／ 上限 5名" in body


def test_apply_is_refused_and_nothing_written_when_another_admin_took_the_seats_meanwhile(
        client_a, tenant_a, django_capture_on_commit_callbacks):
    Tenant.objects.filter(pk=tenant_a.pk).update(seat_cap=5)
    admin = as_admin(client_a)
    url = preview_url(upload(admin, csv_bytes([*add_rows("A121", "A122"), ["A003", "新しい名前", "", "", "", "",
                                                                          "変更", ""]])))
    assert "エラー <strong>0</strong>行" in text(admin.get(url))
    connection.set_tenant(Tenant.objects.get(pk=tenant_a.pk))
    create_user(staff_number="A130", email="other@city.akagi.example.jp", password="Betsu#Kanri2026x",
                full_name="別の管理者が追加")

    done = apply(admin, url, django_capture_on_commit_callbacks)
    assert "プレビューの後にほかの操作で利用者の情報が変わったため、反映しませんでした。" in text(done)
    assert "利用者数の上限（5名）を超えます。この取り込みを反映すると有効な利用者が6名になります" in text(done)
    connection.set_tenant(tenant_a)
    assert not User.objects.filter(staff_number__in=["A121", "A122"]).exists()
    assert User.objects.get(staff_number="A003").full_name == "鈴木 一郎"
    assert not AuditEvent.objects.filter(action="users.import").exists()


def test_a_failure_in_the_middle_of_apply_leaves_nothing_behind(tenant_a, monkeypatch):
    connection.set_tenant(tenant_a)
    actor = User.objects.get(staff_number="A001")
    rows = [*add_rows("A141", "A142"), ["A002", "", "", "", "", "", "削除", ""],
            ["A003", "変わるはず", "", "", "", "", "変更", ""]]
    preview = bulk_import.validate(bulk_import.parse_upload("x.csv", csv_bytes(rows)), actor=actor)
    assert not preview.has_errors

    def audit_down(**kwargs):  # the last step of the transaction, after every write
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(bulk_import, "record", audit_down)
    with pytest.raises(RuntimeError):
        bulk_import.apply(preview, actor=actor)
    assert not User.objects.filter(staff_number__in=["A141", "A142"]).exists()
    assert User.objects.filter(staff_number="A002").exists()
    assert User.objects.get(staff_number="A003").full_name == "鈴木 一郎"


def test_generated_passwords_download_exactly_once_and_the_download_is_audited(
        client_a, tenant_a, django_capture_on_commit_callbacks):
    admin = as_admin(client_a)
    url = preview_url(upload(admin, csv_bytes(add_rows("A151", "A152"))))
    done = apply(admin, url, django_capture_on_commit_callbacks)
    assert "この一度だけダウンロードできます" in text(done)

    first = admin.get(f"{url}passwords/")
    assert first.status_code == 200 and first["Content-Type"].startswith("text/csv")
    assert first["Cache-Control"] == "no-store" and "attachment" in first["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(first.content.decode("utf-8-sig"))))
    assert rows[0] == ["職員番号", "氏名", "メールアドレス", "初期パスワード"]
    assert [r[0] for r in rows[1:]] == ["A151", "A152"]

    second = admin.get(f"{url}passwords/")
    assert second.status_code == 302
    assert "もう取り出せません" in text(admin.get(second.url))
    assert 'data-testid="passwords-gone"' in text(admin.get(url))

    connection.set_tenant(tenant_a)
    event = AuditEvent.objects.get(action="users.import.passwords")
    assert event.detail["count"] == 2 and event.detail["staff_numbers"] == ["A151", "A152"]
    assert event.detail["import_event_id"] == AuditEvent.objects.get(action="users.import").pk
    assert User.objects.get(staff_number="A151").check_password(rows[1][3])
    client_a.logout()
    login(client_a, "A151", rows[1][3])
    assert client_a.get("/").url == "/accounts/password/change/"  # the new user must choose a password first


def test_formula_cells_are_stored_as_typed_but_neutralised_in_the_passwords_csv(
        client_a, tenant_a, django_capture_on_commit_callbacks):
    admin = as_admin(client_a)
    formula = '=HYPERLINK("http://evil.example/","クリック")'
    url = preview_url(upload(admin, csv_bytes([
        ["A161", formula, "f1@city.akagi.example.jp", "+81 会計課", "", "", "追加", ""],
        ["A162", "@SUM(A1)", "f2@city.akagi.example.jp", "-課", "", "", "追加", ""],
    ])))
    apply(admin, url, django_capture_on_commit_callbacks)
    connection.set_tenant(tenant_a)
    assert User.objects.get(staff_number="A161").full_name == formula
    assert User.objects.get(staff_number="A161").department == "+81 会計課"
    rows = list(csv.reader(io.StringIO(admin.get(f"{url}passwords/").content.decode("utf-8-sig"))))
    assert rows[1][1] == "'" + formula and rows[2][1] == "'@SUM(A1)"
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_another_municipalitys_admin_another_admin_and_a_general_user_cannot_use_a_token(
        client_a, client_b, tenant_a, django_capture_on_commit_callbacks):
    from django.test import Client

    admin = as_admin(client_a)
    url = preview_url(upload(admin, csv_bytes(add_rows("A171"))))
    apply(admin, url, django_capture_on_commit_callbacks)

    login(client_b, "B001", "Kanri#Demo2026")
    assert client_b.get(url).status_code == 404
    assert client_b.get(f"{url}passwords/").status_code == 404

    connection.set_tenant(tenant_a)
    create_user(staff_number="A172", email="admin2@city.akagi.example.jp", password="Futari#Kanri2026",
                full_name="二人目の管理者", role="admin")
    other_admin = Client(HTTP_HOST="demo-a.localhost")
    login(other_admin, "A172", "Futari#Kanri2026")
    assert other_admin.get(url).status_code == 404
    assert other_admin.get(f"{url}passwords/").status_code == 404
    assert other_admin.post(url).status_code == 404

    general = Client(HTTP_HOST="demo-a.localhost")
    login(general, "A002", "Shokuin#Demo2026")
    assert general.get(url).status_code == 403
    assert general.get(f"{url}passwords/").status_code == 403
    assert general.get("/manage/users/import/").status_code == 403
    assert general.get("/manage/users/import/template/").status_code == 403
    assert admin.get(f"{url}passwords/").status_code == 200  # still there for the admin who imported


def test_a_preview_cannot_be_applied_twice_and_an_unknown_token_is_404(
        client_a, tenant_a, django_capture_on_commit_callbacks):
    admin = as_admin(client_a)
    url = preview_url(upload(admin, csv_bytes(add_rows("A181"))))
    apply(admin, url, django_capture_on_commit_callbacks)
    again = admin.post(url)
    assert again.status_code == 302
    connection.set_tenant(tenant_a)
    assert User.objects.filter(staff_number="A181").count() == 1
    assert AuditEvent.objects.filter(action="users.import").count() == 1
    assert admin.get("/manage/users/import/not-a-real-token-0123456789/").status_code == 404
    assert admin.get("/manage/users/import/x/passwords/").status_code == 404
