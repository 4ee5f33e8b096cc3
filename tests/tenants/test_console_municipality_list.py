"""利用団体一覧 shows each municipality's state, seats, characters (bar and text), cost, active users and last
activity, sorted by a whitelisted column and filtered by state and text; each row leads to its detail page."""

import re
from decimal import Decimal

from django.db import connection

from accounts.models import User
from tenants.models import MonthlyUsage, OperatorAuditEvent, Tenant
from tests.conftest import login
from usage.models import UsageRecord
from usage.quota import current_month

OPERATOR = ("PREF-0001", "Unei#Demo2026")


def _row(page: str, slug: str) -> str:
    return page.split(f'data-testid="tenant-row-{slug}"')[1].split("</tr>")[0]


def _slugs_in_order(page: str) -> list[str]:
    return re.findall(r'data-testid="tenant-row-([a-z0-9-]+)"', page)


def _use(tenant, staff_numbers, chars: int, cost: str) -> None:
    month = current_month()
    MonthlyUsage.objects.update_or_create(tenant=tenant, month=month, defaults={
        "used_chars": chars, "cost_yen": Decimal(cost), "prompts": len(staff_numbers)})
    connection.set_tenant(tenant)
    for number in staff_numbers:
        user = User.objects.get(staff_number=number)
        UsageRecord.objects.create(month=month, user=user, user_label=number, status="sent", prompt_chars=10,
                                   answer_chars=20)
    connection.set_schema_to_public()


def _forget_usage(*slugs: str) -> None:
    """Other suites commit real prompts in the demo municipalities; this test's transaction starts them afresh."""
    for tenant in Tenant.objects.filter(slug__in=slugs):
        MonthlyUsage.objects.filter(tenant=tenant).delete()
        connection.set_tenant(tenant)
        UsageRecord.objects.all().delete()
        connection.set_schema_to_public()


def test_the_list_shows_state_seats_characters_cost_active_users_and_last_activity(public_client, tenant_a):
    _forget_usage("demo-a", "demo-b")
    Tenant.objects.filter(slug="demo-a").update(monthly_price_cap_yen=2000)
    Tenant.objects.filter(slug="demo-c").update(is_active=False, is_training=True)
    _use(tenant_a, ["A001", "A002", "A002"], 250_000, "1234.5")
    login(public_client, *OPERATOR)
    page = public_client.get("/").content.decode()
    row = _row(page, "demo-a")
    assert '<span class="badge ok">稼働中</span>' in row
    assert "3 / 50" in row  # active accounts against the seat cap
    assert "250,000 / <span data-testid=\"char-cap\">1,000,000</span> 文字（25%）" in row
    assert 'role="meter"' in row and 'aria-valuenow="25"' in row
    assert "1,234 円 / 2,000 円" in row or "1,235 円 / 2,000 円" in row
    assert '<td data-testid="active-users">2 名</td>' in row  # two people prompted this month
    assert re.search(r"\d{4}/\d{2}/\d{2} \d{2}:\d{2}", row)  # last activity
    assert 'href="/console/tenants/demo-a/"' in row
    row_c = _row(page, "demo-c")
    assert "停止中" in row_c and "研修環境" in row_c
    assert "上限なし" in _row(page, "demo-b") and "なし</span>" in _row(page, "demo-b")
    # The console's own row (the public schema) is not a municipality.
    assert 'tenant-row-public' not in page


def _demo(slugs: list[str]) -> list[str]:
    return [slug for slug in slugs if slug.startswith("demo-")]


def test_sorting_uses_only_whitelisted_columns(public_client, tenant_b):
    _forget_usage("demo-a", "demo-b", "demo-c")
    _use(tenant_b, ["B002"], 900_000, "10")
    login(public_client, *OPERATOR)
    assert _slugs_in_order(public_client.get("/?sort=-usage").content.decode())[0] == "demo-b"
    assert _slugs_in_order(public_client.get("/?sort=usage").content.decode())[-1] == "demo-b"
    # Other suites may have committed municipalities of their own: the demo ones keep their relative order.
    by_slug_descending = _slugs_in_order(public_client.get("/?sort=-slug").content.decode())
    assert _demo(by_slug_descending) == ["demo-c", "demo-b", "demo-a"]
    page = public_client.get("/?sort=schema_name;DROP").content.decode()
    assert _demo(_slugs_in_order(page)) == ["demo-a", "demo-b", "demo-c"]  # unknown: the default order
    assert 'aria-sort="descending"' in public_client.get("/?sort=-usage").content.decode()
    assert 'aria-sort="ascending"' in public_client.get("/?sort=name").content.decode()


def test_filtering_by_state_and_text(public_client):
    Tenant.objects.filter(slug="demo-b").update(is_active=False)
    Tenant.objects.filter(slug="demo-c").update(is_training=True)
    login(public_client, *OPERATOR)
    assert _slugs_in_order(public_client.get("/?state=suspended").content.decode()) == ["demo-b"]
    assert _slugs_in_order(public_client.get("/?state=training").content.decode()) == ["demo-c"]
    assert "demo-b" not in _slugs_in_order(public_client.get("/?state=active").content.decode())
    assert _slugs_in_order(public_client.get("/?q=あかぎ").content.decode()) == ["demo-a"]
    assert _slugs_in_order(public_client.get("/?q=DEMO-C").content.decode()) == ["demo-c"]
    page = public_client.get("/?q=存在しない町").content.decode()
    assert "条件に合う利用団体はありません" in page
    assert _slugs_in_order(public_client.get("/?state=bogus").content.decode())[:3] == ["demo-a", "demo-b", "demo-c"]


def test_the_detail_page_shows_plan_usage_address_and_this_municipalitys_operator_events(public_client):
    login(public_client, *OPERATOR)
    public_client.post("/console/tenants/demo-c/suspend/")
    page = public_client.get("/console/tenants/demo-c/").content.decode()
    assert "みょうぎ村（デモ）" in page and "停止中" in page
    assert 'href="http://demo-c.localhost/"' in page
    assert "1,000,000 文字" in page and "プランを変更" in page and "再開…" in page
    assert "停止" in page.split('data-testid="tenant-events"')[1]
    assert OperatorAuditEvent.objects.filter(target="tenant:demo-c", action="tenant.suspend").exists()
