"""The monthly price cap in yen (spec 10): prompts stop at it, with a clear message, and never pass it."""

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum

from tenants.models import MonthlyUsage, Tenant
from tenants.plans import set_plan
from tests.chat.helpers import first, logged_in, names, send
from tests.chat.live import LiveSession, manage
from usage.models import UsageRecord
from usage.quota import cost_of, current_month

pytestmark = pytest.mark.django_db


def _month_cost(tenant) -> Decimal:
    return MonthlyUsage.objects.filter(tenant=tenant, month=current_month()).values_list(
        "cost_yen", flat=True).first() or Decimal(0)


def test_a_prompt_whose_cost_would_pass_the_price_cap_is_refused_with_the_cap_in_yen(client_b, tenant_b, stub_llm):
    spent = _month_cost(tenant_b)
    set_plan(tenant=tenant_b, changes={"monthly_price_cap_yen": int(spent)})
    logged_in(client_b, "B002")
    calls_before = len(stub_llm.requests)

    events = send(client_b, "町内会向けのお知らせ文を作ってください。")

    assert names(events)[-1] == "refused"
    assert f"今月の利用料金の上限（{int(spent):,}円）" in first(events, "refused")["message"]
    assert len(stub_llm.requests) == calls_before  # the model was never called
    connection.set_tenant(tenant_b)
    assert UsageRecord.objects.filter(status=UsageRecord.Status.REFUSED).exists()


def test_raising_the_price_cap_lets_the_next_prompt_through_and_records_its_cost(client_b, tenant_b, stub_llm):
    spent = _month_cost(tenant_b)
    set_plan(tenant=tenant_b, changes={"monthly_price_cap_yen": int(spent)})
    logged_in(client_b, "B002")
    assert names(send(client_b, "議事録を要約してください。"))[-1] == "refused"

    set_plan(tenant=tenant_b, changes={"monthly_price_cap_yen": int(spent) + 100})
    stub_llm.set_behaviour(answer="要約しました。" * 10)
    events = send(client_b, "議事録を要約してください。")

    assert names(events)[-1] == "done"
    used = first(events, "done")["chars"]
    connection.set_tenant(tenant_b)
    record = UsageRecord.objects.filter(status=UsageRecord.Status.SENT).order_by("-id").first()
    assert record.cost_yen == cost_of(used, 2.0) > 0
    connection.set_schema_to_public()
    # The municipality's counter moved by exactly the recorded cost: no reservation is left behind.
    assert _month_cost(tenant_b) == spent + record.cost_yen


def test_concurrent_prompts_never_push_the_month_past_its_price_cap(live_server_url, llm_stub_server):
    tenant = Tenant.objects.get(slug="demo-c")
    original = (tenant.monthly_char_cap, tenant.monthly_price_cap_yen)
    spent = _month_cost(tenant)
    # 2 yen per 1,000 characters (the stub model's price) and up to ~850 characters a prompt: about a dozen fit.
    price_cap = int(spent) + 20
    manage("tenant_set_plan", "demo-c", "--monthly-char-cap", "100000000", "--monthly-price-cap-yen", str(price_cap))
    llm_stub_server.set_behaviour(answer="承知しました。" * 15, chunk_size=10, chunk_delay=0.02)
    sessions = []
    for who in ("C002", "C003"):
        session = LiveSession(live_server_url, "demo-c.localhost")
        session.login(who, "Shokuin#Demo2026")
        sessions.append(session)
    try:
        with ThreadPoolExecutor(max_workers=60) as pool:
            results = list(pool.map(lambda n: sessions[n % 2].chat(f"広報文の案を作ってください（{n}）"), range(60)))
    finally:
        llm_stub_server.reset()
        manage("tenant_set_plan", "demo-c", "--monthly-char-cap", str(original[0]),
               "--monthly-price-cap-yen", "none" if original[1] is None else str(original[1]))

    completed = [events for events in results if events[-1][0] == "done"]
    refused = [events for events in results if events[-1][0] == "refused"]
    assert len(completed) + len(refused) == 60, [events[-1] for events in results][:5]
    assert completed and refused
    for events in refused:
        assert f"今月の利用料金の上限（{price_cap:,}円）" in events[-1][1]["message"]
    month_cost = _month_cost(tenant)
    assert month_cost <= price_cap
    # What the counter holds is what the usage records say was spent (nothing reserved is left behind).
    connection.set_tenant(tenant)
    recorded = UsageRecord.objects.filter(month=current_month()).aggregate(total=Sum("cost_yen"))["total"]
    connection.set_schema_to_public()
    answered = sum(cost_of(events[-1][1]["chars"], 2.0) for events in completed)
    assert month_cost - spent == answered
    assert recorded >= answered


def test_the_administrators_usage_page_shows_the_cost_against_the_price_cap(client_b, tenant_b):
    set_plan(tenant=tenant_b, changes={"monthly_price_cap_yen": 5000})
    logged_in(client_b, "B001", "Kanri#Demo2026")

    page = client_b.get("/manage/usage/live/").content.decode()

    assert "今月の利用料金" in page and "5,000 円" in page
    set_plan(tenant=tenant_b, changes={"monthly_price_cap_yen": None})
    assert "今月の利用料金" not in client_b.get("/manage/usage/live/").content.decode()
