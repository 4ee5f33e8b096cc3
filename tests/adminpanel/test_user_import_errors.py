"""Bad files and bad rows: each problem is named in Japanese by row and column, and nothing is applied."""

from __future__ import annotations

import time

from django.contrib.auth.models import Group
from django.db import connection

from accounts.models import User
from tests.adminpanel.test_user_import import (  # noqa: F401 - the fixture is used by every test here
    HEADER,
    apply,
    as_admin,
    csv_bytes,
    fast_password_hashing,
    preview_url,
    text,
    upload,
)


def preview_of(client, rows, **kwargs) -> str:
    admin = as_admin(client)
    return text(admin.get(preview_url(upload(admin, csv_bytes(rows, **kwargs)))))


def test_one_bad_row_blocks_the_whole_file_and_even_the_good_rows_are_not_created(
        client_a, tenant_a, django_capture_on_commit_callbacks):
    admin = as_admin(client_a)
    url = preview_url(upload(admin, csv_bytes([
        ["A301", "良い 一郎", "good1@city.akagi.example.jp", "", "", "", "追加", ""],
        ["A302", "悪い 二郎", "not-an-email", "", "", "", "追加", ""],
        ["A303", "良い 三郎", "good3@city.akagi.example.jp", "", "", "", "追加", ""],
    ])))
    body = text(admin.get(url))
    assert "3行目" in body
    assert "<strong>メールアドレス</strong>: メールアドレス「not-an-email」の形式が正しくありません" in body
    assert "エラー <strong>1</strong>行" in body
    assert 'disabled aria-describedby="apply-blocked"' in body and "エラーがあるため反映できません" in body

    done = apply(admin, url, django_capture_on_commit_callbacks)  # a hand-made POST is refused as well
    assert "エラーのある行があるため反映できません" in text(done)
    connection.set_tenant(tenant_a)
    assert not User.objects.filter(staff_number__in=["A301", "A302", "A303"]).exists()


def test_adding_a_staff_number_that_is_already_registered_is_an_error(client_a):
    body = preview_of(client_a, [["A002", "佐藤 花子", "new-sato@city.akagi.example.jp", "", "", "", "追加", ""]])
    assert "<strong>職員番号</strong>: 職員番号「A002」はすでに登録されています。" in body
    assert "操作を「変更」にしてください" in body


def test_an_email_used_by_another_user_is_an_error_unless_that_user_is_deleted_in_the_same_file(client_a):
    body = preview_of(client_a, [["A401", "新人", "SATO@city.akagi.example.jp", "", "", "", "追加", ""]])
    assert "メールアドレス「sato@city.akagi.example.jp」はすでに職員番号「A002」の利用者が使っています" in body
    body = preview_of(client_a, [["A401", "新人", "sato@city.akagi.example.jp", "", "", "", "追加", ""],
                                 ["A002", "", "", "", "", "", "削除", ""]])
    assert "エラー <strong>0</strong>行" in body


def test_duplicates_inside_the_file_are_reported_on_every_row_involved(client_a):
    body = preview_of(client_a, [
        ["A501", "一", "one@city.akagi.example.jp", "", "", "", "追加", ""],
        ["Ａ５０１", "二", "two@city.akagi.example.jp", "", "", "", "追加", ""],  # full-width: the same number
        ["A502", "三", "same@city.akagi.example.jp", "", "", "", "追加", ""],
        ["A503", "四", "Same@City.Akagi.Example.jp", "", "", "", "追加", ""],
    ])
    assert body.count("職員番号「A501」がこのファイルの複数の行（2行目、3行目）にあります") == 2
    same = "メールアドレス「same@city.akagi.example.jp」がこのファイルの複数の行（4行目、5行目）にあります"
    assert body.count(same) == 2
    assert "エラー <strong>4</strong>行" in body


def test_an_unknown_group_tells_the_admin_to_create_it_first(client_a, tenant_a):
    connection.set_tenant(tenant_a)
    Group.objects.create(name="防災")
    body = preview_of(client_a, [["A601", "名", "g@city.akagi.example.jp", "", "", "防災、広報チーム", "追加", ""]])
    assert "<strong>グループ</strong>: グループ「広報チーム」は登録されていません。" in body
    assert "先に「グループと権限」の画面でグループを作成してから取り込んでください" in body
    assert "防災」は登録されていません" not in body


def test_invalid_role_operation_and_missing_name_name_their_columns(client_a):
    body = preview_of(client_a, [
        ["A701", "名", "r@city.akagi.example.jp", "", "係長", "", "追加", ""],
        ["A702", "名", "o@city.akagi.example.jp", "", "", "", "登録", ""],
        ["A703", "", "", "", "", "", "追加", ""],
        ["", "名", "s@city.akagi.example.jp", "", "", "", "", ""],
    ])
    assert "<strong>権限</strong>: 「係長」は権限に使えません。「管理者」または「一般利用者」を入力して" in body
    assert "<strong>操作</strong>: 「登録」は操作に使えません。" in body
    assert "<strong>氏名</strong>: 氏名を入力してください。" in body
    assert "<strong>メールアドレス</strong>: メールアドレスを入力してください。" in body
    assert "<strong>職員番号</strong>: 職員番号を入力してください。" in body
    assert "<strong>操作</strong>: 操作を入力してください" in body


def test_changing_or_deleting_an_unknown_staff_number_is_an_error(client_a):
    body = preview_of(client_a, [["Z999", "名", "", "", "", "", "変更", ""], ["Z998", "", "", "", "", "", "削除", ""]])
    assert "職員番号「Z999」の利用者は登録されていません。" in body
    assert "職員番号「Z998」の利用者は登録されていません。" in body


def test_an_admin_can_neither_delete_nor_demote_themselves(client_a):
    body = preview_of(client_a, [["A001", "", "", "", "", "", "削除", ""]])
    assert "<strong>操作</strong>: 自分自身は削除できません。" in body
    body = preview_of(client_a, [["A001", "", "", "", "一般利用者", "", "変更", ""]])
    assert "<strong>権限</strong>: 自分自身の権限を「一般利用者」に変更することはできません。" in body


def test_weak_passwords_are_refused_with_djangos_validators_in_japanese(client_a):
    body = preview_of(client_a, [
        ["A801", "名", "w1@city.akagi.example.jp", "", "", "", "追加", "password"],
        ["A802", "名", "w2@city.akagi.example.jp", "", "", "", "追加", "Xa-A802-long-enough"],
        ["A803", "名", "w3@city.akagi.example.jp", "", "", "", "追加", "8472910365"],
    ])
    assert "<strong>初期パスワード</strong>: このパスワードは短すぎます。" in body
    assert "このパスワードは一般的すぎます。" in body
    assert "パスワードに職員番号を含めることはできません。" in body
    assert "このパスワードは数字しか使われていません。" in body
    assert "password" not in body.split("data-testid=\"import-rows\"")[1]  # a password is never shown back


def test_a_missing_required_column_is_a_file_level_error_naming_the_column(client_a):
    admin = as_admin(client_a)
    header = [c for c in HEADER if c != "操作"]
    response = upload(admin, csv_bytes([["A901", "名", "m@city.akagi.example.jp", "", "", "", ""]], header=header))
    assert response.status_code == 200
    assert "必須の列「操作」がありません。" in text(response)
    header = [c for c in HEADER if c != "メールアドレス"]
    response = upload(admin, csv_bytes([["A901", "名", "", "", "", "追加", ""]], header=header))
    assert "「追加」の行には列「メールアドレス」が必要ですが、見出し行にありません。" in text(response)


def test_an_empty_file_and_a_header_only_file_are_refused_with_a_message(client_a):
    admin = as_admin(client_a)
    assert "ファイルが空です。" in text(upload(admin, b""))
    assert "ファイルが空です。" in text(upload(admin, "\ufeff\r\n,,,\r\n".encode()))
    assert "見出し行の下にデータの行がありません。" in text(upload(admin, csv_bytes([])))
    assert "取り込むファイル（CSVまたはExcel）を選んでください。" in text(admin.post("/manage/users/import/", {}))


def test_a_100000_row_file_is_refused_quickly_naming_the_limit(client_a):
    admin = as_admin(client_a)
    rows = [[f"B{i:06d}", f"職員 {i}", f"staff{i}@city.akagi.example.jp", "市民課", "一般利用者", "", "追加", ""]
            for i in range(100_000)]
    data = csv_bytes(rows)
    assert len(data) < 10 * 1024 * 1024  # so it is the row limit, not the size limit, that refuses it
    started = time.monotonic()
    response = upload(admin, data)
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    message = ("データの行が多すぎます（100,000行）。1回に取り込めるのは20,000行までです。"
               "ファイルを分けて取り込んでください。")
    assert message in text(response)
    assert elapsed < 5, f"refusing took {elapsed:.1f}s"


def test_a_file_over_10_mb_an_xls_and_an_unknown_encoding_are_refused(client_a):
    admin = as_admin(client_a)
    assert "ファイルが大きすぎます" in text(upload(admin, b"a" * (10 * 1024 * 1024 + 1)))
    assert ".xls）のファイルには対応していません" in text(upload(admin, b"\xd0\xcf\x11\xe0" + b"\0" * 100, "old.xls"))
    assert "UTF-16" in text(upload(admin, "職員番号,操作\r\n".encode("utf-16")))
    assert "文字コードを読み取れません" in text(upload(admin, b"\x81\x20\x81\x20,\x80\x81\r\n"))
    assert "Excelファイルを読み込めませんでした" in text(upload(admin, b"PK\x03\x04broken", "broken.xlsx"))


def test_full_width_staff_numbers_and_emails_are_normalised_and_formula_text_is_escaped_in_the_preview(client_a):
    body = preview_of(client_a, [["Ａ９０１", "<script>alert(1)</script>", "ＴＡＲＯ＠City.Akagi.Example.JP",
                                  "", "", "", "追加", ""]])
    assert ">A901</td>" in body and ">taro@city.akagi.example.jp</td>" in body
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
