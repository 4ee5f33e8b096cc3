"""In Chromium: demo-c's administrator imports 50 staff from a Shift_JIS CSV made by Excel, then deletes them again.

The live server commits what it writes, and the session's database is shared by every test, so this test uses its
own staff numbers (E2E0001…) in demo-c and removes them with a 削除 import at the end (and, should the test fail
half-way, directly in the database).
"""

from __future__ import annotations

import csv
import io
import os
import re
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from tests.e2e.test_login_in_chromium import _log_in, browser, page  # noqa: F401 - shared fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

HEADER = ["職員番号", "氏名", "メールアドレス", "所属", "権限", "グループ", "操作", "初期パスワード"]
STAFF = [f"E2E{i:04d}" for i in range(1, 51)]
DEMO_C_SCHEMA = "t_demo_c"


def excel_csv(rows: list[list[str]]) -> bytes:
    """What Excel on Japanese Windows writes for 「CSV（コンマ区切り）」: CP932 and CRLF."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode("cp932")


@contextmanager
def committed_sql():
    """A connection of its own, so that what it changes is committed and the live server sees it."""
    settings = connection.settings_dict
    with psycopg.connect(host=settings["HOST"], port=settings["PORT"], dbname=settings["NAME"],
                         user=settings["USER"], password=settings["PASSWORD"] or None, autocommit=True) as conn:
        yield conn


def imported_staff() -> list[str]:
    with committed_sql() as conn:
        return [r[0] for r in conn.execute(
            f"SELECT staff_number FROM {DEMO_C_SCHEMA}.accounts_user WHERE staff_number LIKE %s "  # noqa: S608
            "ORDER BY staff_number", ["E2E%"])]


def upload_and_preview(tab, base: str, path) -> None:
    tab.goto(f"{base}/manage/users/import/")
    tab.get_by_label("取り込むファイル（.csv または .xlsx）").set_input_files(str(path))
    tab.get_by_role("button", name="内容を確認する").click()
    tab.wait_for_url(re.compile(r".*/manage/users/import/[A-Za-z0-9_-]+/$"))


def apply_preview(tab) -> None:
    tab.get_by_role("button", name="この内容で反映する").click()
    # 50 passwords are hashed with the production work factor: allow for a slow machine.
    tab.get_by_role("heading", name="一括登録・変更・削除を反映しました").wait_for(timeout=180_000)


def test_admin_imports_fifty_staff_from_an_excel_shift_jis_csv_and_deletes_them_again(
        page, live_server_url, tmp_path):  # noqa: F811
    base = live_server_url.format(host="demo-c.localhost")
    with committed_sql() as conn:
        # demo-c has 3 users and a cap of 50: room is made for the 50 newcomers, and given back afterwards.
        conn.execute("UPDATE public.tenants_tenant SET seat_cap = 100 WHERE schema_name = %s", [DEMO_C_SCHEMA])
    try:
        rows = [[number, f"髙橋 {number}", f"{number.lower()}@vill.myogi.example.jp", "①係", "一般利用者", "",
                 "追加", ""] for number in STAFF]
        added = tmp_path / "職員一覧.csv"
        added.write_bytes(excel_csv(rows))

        _log_in(page, base, "C001", "Kanri#Demo2026")
        upload_and_preview(page, base, added)
        table = page.get_by_test_id("import-rows")
        assert table.locator("tbody tr").count() == 50
        assert table.locator("td", has_text="追加します").count() == 50
        assert table.locator("td", has_text="髙橋 E2E0001").count() == 1
        assert "追加 50名" in page.get_by_test_id("import-summary").inner_text()
        assert "3名 → 53名" in page.get_by_test_id("seat-projection").inner_text()
        assert imported_staff() == []  # the preview applied nothing

        apply_preview(page)
        assert "反映しました（追加 50名、変更 0名、削除 0名）" in page.get_by_role("status").inner_text()
        assert imported_staff() == STAFF

        with page.expect_download() as info:
            page.get_by_test_id("passwords-link").click()
        passwords = list(csv.reader(io.StringIO(Path(info.value.path()).read_text(encoding="utf-8-sig"))))
        assert passwords[0] == ["職員番号", "氏名", "メールアドレス", "初期パスワード"]
        assert [r[0] for r in passwords[1:]] == STAFF and all(len(r[3]) >= 10 for r in passwords[1:])
        page.reload()
        assert page.get_by_test_id("passwords-gone").is_visible()  # once only

        page.goto(f"{base}/manage/users/?text=E2E")
        listed = page.get_by_test_id("user-table")
        assert listed.locator("tbody tr").count() == 50
        assert listed.locator("td", has_text="髙橋 E2E0050").count() == 1

        deleted = tmp_path / "削除.csv"
        deleted.write_bytes(excel_csv([[number, "", "", "", "", "", "削除", ""] for number in STAFF]))
        upload_and_preview(page, base, deleted)
        assert page.get_by_test_id("import-rows").locator("td", has_text="削除します").count() == 50
        apply_preview(page)
        assert "削除 50名" in page.get_by_role("status").inner_text()
        assert imported_staff() == []
    finally:
        with committed_sql() as conn:
            # Users that never logged in have no rows elsewhere but their group links (none here).
            conn.execute(f"DELETE FROM {DEMO_C_SCHEMA}.accounts_user WHERE staff_number LIKE %s", ["E2E%"])  # noqa: S608
            conn.execute("UPDATE public.tenants_tenant SET seat_cap = 50 WHERE schema_name = %s", [DEMO_C_SCHEMA])
