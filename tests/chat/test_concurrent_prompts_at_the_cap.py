"""200 prompts at once, 10,000 characters below the cap: the month never passes its cap."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from tenants.models import MonthlyUsage, Tenant
from tests.chat.live import LiveSession, manage
from usage.quota import current_month

pytestmark = pytest.mark.django_db


def test_200_concurrent_prompts_never_push_the_month_past_its_cap(live_server_url, llm_stub_server):
    tenant = Tenant.objects.get(slug="demo-c")
    original_cap = tenant.monthly_char_cap
    used_before = MonthlyUsage.objects.filter(tenant=tenant, month=current_month()).values_list(
        "used_chars", flat=True).first() or 0
    cap = used_before + 10_000
    manage("tenant_set_plan", "demo-c", "--monthly-char-cap", str(cap))
    llm_stub_server.set_behaviour(answer="了解しました。" * 15, chunk_size=10, chunk_delay=0.02)
    sessions = []
    for who in ("C001", "C002", "C003"):
        session = LiveSession(live_server_url, "demo-c.localhost")
        session.login(who, "Kanri#Demo2026" if who == "C001" else "Shokuin#Demo2026")
        sessions.append(session)
    try:
        with ThreadPoolExecutor(max_workers=200) as pool:
            results = list(pool.map(lambda n: sessions[n % 3].chat(f"お知らせ文の案を作ってください（{n}）"),
                                    range(200)))
    finally:
        llm_stub_server.reset()
        manage("tenant_set_plan", "demo-c", "--monthly-char-cap", str(original_cap))

    used_after = MonthlyUsage.objects.get(tenant=tenant, month=current_month()).used_chars
    assert used_after <= cap
    completed = [events for events in results if events[-1][0] == "done"]
    refused = [events for events in results if events[-1][0] == "refused"]
    assert len(completed) + len(refused) == 200, [events[-1] for events in results][:5]
    assert completed and refused
    for events in refused:
        assert f"今月の利用上限（{cap:,}文字）" in events[-1][1]["message"]
    # Everything that was answered is exactly what the counter moved by.
    assert sum(events[-1][1]["chars"] for events in completed) == used_after - used_before
