"""The monthly cap: reserved before the call, settled after, never passed, even when things go wrong."""

import pytest
from django.db import connection

from tenants.models import MonthlyUsage, Tenant
from tests.chat.helpers import first, logged_in, names, send
from usage import services as usage_services
from usage.models import UsageRecord
from usage.quota import current_month

PROMPT = "会議の開催通知を作成してください。"


@pytest.fixture
def staff(client_a, stub_llm):
    return logged_in(client_a)


def _used(tenant) -> int:
    return MonthlyUsage.objects.filter(tenant=tenant, month=current_month()).values_list(
        "used_chars", flat=True).first() or 0


def _set_cap(tenant, cap: int) -> None:
    Tenant.objects.filter(pk=tenant.pk).update(monthly_char_cap=cap)


def test_at_the_cap_a_prompt_is_refused_naming_the_cap_and_who_to_ask(staff, stub_llm, tenant_a):
    # Other suites may have committed usage in demo-a this month: every figure is relative to it.
    cap = _used(tenant_a) + 100
    _set_cap(tenant_a, cap)
    events = send(staff, PROMPT)
    assert names(events) == ["refused"]
    message = events[0][1]["message"]
    assert f"{cap:,}文字" in message and "管理者" in message and "県の運営担当" in message
    assert stub_llm.requests == []


def test_raising_the_cap_takes_effect_on_the_next_prompt(staff, stub_llm, tenant_a):
    _set_cap(tenant_a, _used(tenant_a) + 100)
    assert names(send(staff, PROMPT)) == ["refused"]
    _set_cap(tenant_a, 1_000_000)
    assert first(send(staff, PROMPT), "done")["status"] == "complete"


def test_an_answer_that_would_pass_the_cap_is_cut_at_the_cap(staff, stub_llm, tenant_a):
    cap = _used(tenant_a) + len(PROMPT) + 300  # room for a 300-character answer only
    _set_cap(tenant_a, cap)
    stub_llm.set_behaviour(answer="長い回答。" * 200)
    events = send(staff, PROMPT)
    done = first(events, "done")
    assert done["status"] == "partial" and "上限" in done["note"]
    answer = "".join(data["text"] for name, data in events if name == "delta")
    assert len(answer) == 300
    assert _used(tenant_a) == cap


def test_a_failure_mid_stream_keeps_the_partial_answer_and_settles_what_was_used(staff, stub_llm, tenant_a):
    stub_llm.set_behaviour(answer="これは途中で切れる回答です。" * 5, chunk_size=4, fail_after_chunks=3,
                           fail_mode="close")
    before = _used(tenant_a)
    events = send(staff, PROMPT)
    done = first(events, "done")
    partial = "".join(data["text"] for name, data in events if name == "delta")
    assert done["status"] == "partial" and done["note"]
    assert 0 < len(partial) < len("これは途中で切れる回答です。" * 5)
    assert _used(tenant_a) - before == len(PROMPT) + len(partial)
    connection.set_tenant(tenant_a)
    from chat.models import Message

    saved = Message.objects.filter(role="assistant").latest("id")
    assert saved.status == "partial" and saved.content == partial


def test_a_provider_that_fails_before_answering_costs_nothing(staff, stub_llm, tenant_a):
    stub_llm.set_behaviour(fail_status=500, fail_count=10)
    before = _used(tenant_a)
    events = send(staff, PROMPT)
    done = first(events, "done")
    assert done["status"] == "failed"
    assert "障害" in done["note"] or "エラー" in done["note"]
    assert _used(tenant_a) == before
    connection.set_tenant(tenant_a)
    assert UsageRecord.objects.filter(status=UsageRecord.Status.FAILED).exists()


def test_a_provider_timeout_gives_a_japanese_message_and_releases_the_reservation(staff, stub_llm, tenant_a,
                                                                                 settings):
    settings.AKAGI_LLM_READ_TIMEOUT = 0.5
    stub_llm.set_behaviour(hang=True)
    before = _used(tenant_a)
    events = send(staff, PROMPT)
    done = first(events, "done")
    assert done["status"] == "failed" and "タイムアウト" in done["note"]
    assert _used(tenant_a) == before


def test_a_per_user_limit_stops_one_user_but_not_colleagues(client_a, stub_llm, tenant_a):
    connection.set_tenant(tenant_a)
    from usage.models import UserMonthlyUsage

    already = UserMonthlyUsage.objects.filter(user__staff_number="A002", month=current_month()).values_list(
        "used_chars", flat=True).first() or 0
    limit = already + 400
    usage_services.set_per_user_limit(limit=limit, actor=None)
    connection.set_schema_to_public()
    staff = logged_in(client_a)
    stub_llm.set_behaviour(answer="あ" * 350)
    assert first(send(staff, PROMPT), "done")["status"] in {"complete", "partial"}
    events = send(staff, PROMPT)
    assert names(events) == ["refused"]
    assert f"あなたの今月の利用上限（{limit:,}文字）" in events[0][1]["message"]
    from django.test import Client

    colleague = logged_in(Client(HTTP_HOST="demo-a.localhost"), "A003")
    stub_llm.set_behaviour(answer="短い回答")
    assert first(send(colleague, PROMPT), "done")["status"] == "complete"
