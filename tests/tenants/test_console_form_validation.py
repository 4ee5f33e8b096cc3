"""Bad input on the console's forms is refused with Japanese messages that say what to do; nothing is started."""

import pytest

from tenants.models import Tenant, TenantJob
from tests.conftest import login

OPERATOR = ("PREF-0001", "Unei#Demo2026")


def _add_form(**overrides) -> dict:
    form = {"slug": "shibukawa", "name": "渋川テスト市", "admin_email": "kanri@shibukawa.example.lg.jp",
            "admin_staff_number": "S0001", "seat_cap": "20", "monthly_char_cap": "1000000"}
    form.update(overrides)
    return form


@pytest.mark.parametrize(("slug", "message"), [
    ("Shibukawa", "英大文字は使えません"),
    ("渋川", "日本語や全角文字は使えません"),
    ("shibu kawa", "空白は使えません"),
    ("public", "予約された識別子"),
    ("www", "予約された識別子"),
    ("admin", "予約された識別子"),
    ("static", "予約された識別子"),
    ("new", "予約された識別子"),
    ("demo-a", "識別子「demo-a」はすでに使われています"),
    ("a_b", "英小文字で始め"),
    ("", "識別子を入力してください"),
])
def test_bad_slugs_are_refused_with_a_japanese_message(public_client, slug, message):
    jobs_before = TenantJob.objects.count()  # e2e tests may have committed jobs of their own
    login(public_client, *OPERATOR)
    response = public_client.post("/console/tenants/new/", _add_form(slug=slug))
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert 'aria-invalid="true"' in page and 'role="alert"' in page
    assert TenantJob.objects.count() == jobs_before


@pytest.mark.parametrize(("field", "value", "message"), [
    ("seat_cap", "-5", "利用者数の上限は1名以上で指定してください"),
    ("seat_cap", "0", "利用者数の上限は1名以上で指定してください"),
    ("seat_cap", "", "利用者数の上限を入力するか、「利用者数を無制限にする」を選んでください"),
    ("seat_cap", "999999999", "利用者数の上限は100,000名以下で指定してください"),
    ("monthly_char_cap", "-1", "月間文字数の上限は0文字以上で指定してください"),
    ("monthly_char_cap", "99999999999999999", "月間文字数の上限は10,000,000,000文字以下で指定してください"),
    ("monthly_char_cap", "たくさん", "月間文字数の上限は半角または全角の数字（整数）で入力してください"),
    ("monthly_char_cap", "1.5", "月間文字数の上限は半角または全角の数字（整数）で入力してください"),
    ("monthly_price_cap_yen", "-100", "月間利用料金の上限（円）は0円以上で指定してください"),
    ("monthly_price_cap_yen", "10000000000000", "月間利用料金の上限（円）は1,000,000,000円以下で指定してください"),
    ("admin_email", "not-an-address", "メールアドレスの形式が正しくありません"),
    ("admin_staff_number", "", "最初の管理者の職員番号を入力してください"),
    ("name", "", "表示名を入力してください"),
])
def test_bad_values_on_the_add_form_are_refused_in_japanese(public_client, field, value, message):
    jobs_before = TenantJob.objects.count()  # e2e tests may have committed jobs of their own
    login(public_client, *OPERATOR)
    response = public_client.post("/console/tenants/new/", _add_form(**{field: value}))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert TenantJob.objects.count() == jobs_before


def test_bad_numbers_on_the_plan_page_change_nothing(public_client, tenant_a):
    login(public_client, *OPERATOR)
    response = public_client.post("/console/tenants/demo-a/plan/", {
        "seat_cap": "-1", "monthly_char_cap": "-3", "monthly_price_cap_yen": "abc", "allowed_models": ["gpt-99"]})
    page = response.content.decode()
    assert response.status_code == 200
    for message in ("利用者数の上限は1名以上", "月間文字数の上限は0文字以上",
                    "月間利用料金の上限（円）は半角または全角の数字", "カタログにないモデル「gpt-99」は選べません"):
        assert message in page
    assert Tenant.objects.get(pk=tenant_a.pk).monthly_char_cap == tenant_a.monthly_char_cap


def test_a_slug_being_provisioned_cannot_be_submitted_twice(public_client):
    login(public_client, *OPERATOR)
    assert public_client.post("/console/tenants/new/", _add_form()).status_code == 302
    response = public_client.post("/console/tenants/new/", _add_form())
    assert "追加の処理中です" in response.content.decode()
    assert TenantJob.objects.filter(tenant_slug="shibukawa").count() == 1


def test_unknown_municipalities_are_404(public_client):
    login(public_client, *OPERATOR)
    for url in ("/console/tenants/no-such-town/", "/console/tenants/public/plan/", "/console/tenants/public/suspend/"):
        assert public_client.get(url).status_code == 404
