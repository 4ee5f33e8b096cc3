"""In a real Chromium against a real uvicorn: staff log in to demo-a by staff number and by e-mail."""

import os
import shutil

import pytest

# django_db: pytest-django creates the test database only when a collected test asks for it.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

# Playwright's sync API keeps an event loop alive in this thread; the rollback after each test is still
# plain synchronous ORM work, which Django would otherwise refuse inside a running loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: `make test` installs it with apt (make browser).")
        pytest.skip("Chromium is not installed; run `make browser`.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="ja-JP")
    page = context.new_page()
    yield page
    context.close()


def _log_in(page, base: str, identifier: str, password: str) -> None:
    page.goto(f"{base}/")
    assert page.url.endswith("/accounts/login/?next=/")
    page.get_by_label("職員番号またはメールアドレス").fill(identifier)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(f"{base}/")


def test_admin_logs_in_by_staff_number_and_sees_the_admin_navigation(page, live_server_url):
    base = live_server_url.format(host="demo-a.localhost")
    _log_in(page, base, "A001", "Kanri#Demo2026")
    assert page.get_by_test_id("tenant-name").inner_text() == "あかぎ市（デモ）"
    assert "管理 太郎" in page.get_by_test_id("user-name").inner_text()
    admin_link = page.get_by_test_id("admin-nav")
    assert admin_link.is_visible()
    admin_link.click()
    page.wait_for_url(f"{base}/manage/")
    assert page.get_by_role("heading", level=1).inner_text() == "管理"


def test_general_user_logs_in_by_email_and_sees_no_admin_navigation(page, live_server_url):
    base = live_server_url.format(host="demo-a.localhost")
    _log_in(page, base, "sato@city.akagi.example.jp", "Shokuin#Demo2026")
    assert page.get_by_role("heading", level=1).inner_text() == "ようこそ、佐藤 花子 さん"
    assert page.get_by_test_id("admin-nav").count() == 0
    page.get_by_role("button", name="ログアウト").click()
    page.wait_for_url(f"{base}/accounts/login/")


def test_wrong_password_shows_the_japanese_message_in_the_browser(page, live_server_url):
    base = live_server_url.format(host="demo-a.localhost")
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("職員番号またはメールアドレス").fill("A003")
    page.get_by_label("パスワード").fill("wrong-password")
    page.get_by_role("button", name="ログイン").click()
    assert "職員番号・メールアドレスまたはパスワードが正しくありません" in page.get_by_role("alert").inner_text()
