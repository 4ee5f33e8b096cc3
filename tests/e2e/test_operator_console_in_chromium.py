"""In Chromium: the prefecture operator adds a municipality through the console, waits for the background job to
reach 完了, raises its character cap on the plan page and sees the new cap in 利用団体一覧 and on the dashboard.

The live server and the worker commit what they write, and the session's database is shared by every test, so
the municipality's slug is unique per run.
"""

from __future__ import annotations

import os
import re

import pytest

from tests.e2e.test_login_in_chromium import browser, page  # noqa: F401 - shared fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def test_operator_adds_a_municipality_and_raises_its_cap(page, live_server_url, celery_worker_process):  # noqa: F811
    base = live_server_url.format(host="localhost")
    slug = f"e2e-{os.getpid()}"
    name = f"E2Eテスト市{os.getpid()}"

    page.goto(f"{base}/")
    page.wait_for_url(re.compile(r".*/accounts/login/"))
    page.get_by_label("職員番号またはメールアドレス").fill("PREF-0001")
    page.get_by_label("パスワード").fill("Unei#Demo2026")
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(f"{base}/")
    assert page.get_by_role("heading", level=1).inner_text() == "利用団体一覧"

    page.get_by_role("link", name="＋ 利用団体を追加").click()
    page.wait_for_url(f"{base}/console/tenants/new/")
    page.get_by_label("識別子").fill(slug)
    page.get_by_label("表示名").fill(name)
    page.get_by_label("最初の管理者のメールアドレス").fill(f"kanri@{slug}.example.lg.jp")
    page.get_by_label("最初の管理者の職員番号").fill("E2E-ADMIN")
    page.get_by_label("利用者数の上限", exact=True).fill("25")
    assert page.get_by_label("月間文字数の上限").input_value() == "1000000"
    page.get_by_role("button", name="追加する").click()

    page.wait_for_url(re.compile(r".*/console/jobs/\d+/$"))
    progress = page.get_by_test_id("job-progress")
    page.wait_for_selector('[data-testid="job-progress"][data-state="done"], '
                           '[data-testid="job-progress"][data-state="failed"]', timeout=120_000)
    assert progress.get_attribute("data-state") == "done", progress.inner_text()
    assert page.get_by_test_id("job-state").inner_text() == "完了"
    secret = page.get_by_test_id("job-secret")
    assert secret.is_visible() and len(secret.locator("code").inner_text()) >= 12

    page.goto(f"{base}/")
    row = page.get_by_test_id(f"tenant-row-{slug}")
    assert name in row.inner_text() and "稼働中" in row.inner_text()
    assert row.get_by_test_id("char-cap").inner_text() == "1,000,000"
    row.get_by_role("link", name=name, exact=True).click()
    page.wait_for_url(f"{base}/console/tenants/{slug}/")

    page.get_by_role("link", name="プランを変更").click()
    page.wait_for_url(f"{base}/console/tenants/{slug}/plan/")
    page.get_by_label("月間文字数の上限").fill("3000000")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(f"{base}/console/tenants/{slug}/")
    assert "プランを変更しました" in page.get_by_role("status").first.inner_text()
    assert page.get_by_test_id("plan-char-cap").inner_text() == "3,000,000 文字"
    assert "月間文字数の上限: 1,000,000 → 3,000,000" in page.get_by_test_id("tenant-events").inner_text()

    page.get_by_role("link", name="利用団体一覧", exact=True).first.click()
    page.wait_for_url(re.compile(rf"{re.escape(base)}/(console/)?$"))
    row = page.get_by_test_id(f"tenant-row-{slug}")
    assert row.get_by_test_id("char-cap").inner_text() == "3,000,000"

    page.goto(f"{base}/console/dashboard/")
    assert name in page.get_by_test_id("tenant-table").inner_text()
