"""Staff send a prompt and get a streamed answer that is saved, metered and audited."""

import pytest
from django.db import connection

from audit.models import AuditEvent
from chat.models import Conversation, Message
from tenants.models import MonthlyUsage
from tests.chat.helpers import first, logged_in, names, send
from usage.models import UsageRecord

PROMPT = "住民向けのごみ出しルールの案内文を3行で作ってください。"


@pytest.fixture
def staff(client_a, stub_llm):
    return logged_in(client_a)


def test_answer_streams_in_several_pieces_and_is_saved(staff, stub_llm, tenant_a):
    stub_llm.set_behaviour(answer="承知しました。\n\n- 燃えるごみは月・木\n- 資源ごみは水曜日\n", chunk_size=5)
    events = send(staff, PROMPT)
    assert names(events)[0] == "start"
    deltas = [data["text"] for name, data in events if name == "delta"]
    assert len(deltas) > 3
    assert "".join(deltas) == "承知しました。\n\n- 燃えるごみは月・木\n- 資源ごみは水曜日\n"
    done = first(events, "done")
    assert done["status"] == "complete"
    final_html = [data["html"] for name, data in events if name == "html"][-1]
    assert "<li>燃えるごみは月・木</li>" in final_html

    connection.set_tenant(tenant_a)
    conversation = Conversation.objects.get(pk=first(events, "start")["conversation_id"])
    assert conversation.owner.staff_number == "A002"
    roles = list(conversation.messages.values_list("role", "content"))
    assert roles[0] == ("user", PROMPT)
    assert roles[1][0] == "assistant" and roles[1][1].startswith("承知しました")


def test_characters_are_counted_as_prompt_plus_answer(staff, stub_llm, tenant_a):
    answer = "回答です。" * 10
    stub_llm.set_behaviour(answer=answer)
    before = sum(MonthlyUsage.objects.filter(tenant=tenant_a).values_list("used_chars", flat=True))
    events = send(staff, PROMPT)
    expected = len(PROMPT) + len(answer)
    assert first(events, "done")["chars"] == expected
    assert sum(MonthlyUsage.objects.filter(tenant=tenant_a).values_list("used_chars", flat=True)) - before == expected
    connection.set_tenant(tenant_a)
    record = UsageRecord.objects.get(status=UsageRecord.Status.SENT)
    assert (record.prompt_chars, record.answer_chars) == (len(PROMPT), len(answer))
    assert record.completion_tokens is not None  # the stub reports usage, and it is kept
    counters = first(events, "done")["counters"]
    assert counters["tenant_used"] == expected and counters["user_used"] == expected


def test_every_prompt_and_answer_is_in_the_audit_trail(staff, stub_llm, tenant_a):
    stub_llm.set_behaviour(answer="監査される回答")
    send(staff, PROMPT)
    connection.set_tenant(tenant_a)
    event = AuditEvent.objects.filter(action="prompt.sent").latest("id")
    assert event.detail["prompt"] == PROMPT
    assert event.detail["answer"] == "監査される回答"
    assert event.detail["model"] == "stub-gpt"
    assert event.actor_label.startswith("佐藤 花子")
    assert event.detail["latency_ms"] >= 0
    assert event.ip_address == "127.0.0.1"


def test_the_conversation_history_is_sent_with_the_next_prompt(staff, stub_llm):
    stub_llm.set_behaviour(answer="一つ目の回答")
    conversation_id = first(send(staff, "一つ目の質問"), "start")["conversation_id"]
    stub_llm.set_behaviour(answer="二つ目の回答")
    send(staff, "二つ目の質問", conversation=conversation_id)
    sent = stub_llm.requests[-1]["messages"]
    contents = [m["content"] for m in sent if m["role"] != "system"]
    assert contents == ["一つ目の質問", "一つ目の回答", "二つ目の質問"]


def test_model_output_with_html_and_script_is_rendered_inert(staff, stub_llm):
    stub_llm.set_behaviour(
        answer='<script>alert("x")</script><img src=x onerror=alert(1)> **太字** [a](javascript:alert(1))'
    )
    events = send(staff, PROMPT)
    html = [data["html"] for name, data in events if name == "html"][-1]
    assert "<script" not in html and "<img" not in html and "href=\"javascript" not in html
    assert "&lt;script&gt;" in html
    assert "<strong>太字</strong>" in html


def test_regenerate_replaces_the_last_answer(staff, stub_llm, tenant_a):
    stub_llm.set_behaviour(answer="最初の回答")
    conversation_id = first(send(staff, PROMPT), "start")["conversation_id"]
    stub_llm.set_behaviour(answer="作り直した回答")
    events = send(staff, "", conversation=conversation_id, regenerate=1)
    assert first(events, "done")["status"] == "complete"
    connection.set_tenant(tenant_a)
    contents = list(Message.objects.filter(conversation_id=conversation_id).values_list("role", "content"))
    assert contents == [("user", PROMPT), ("assistant", "作り直した回答")]
    assert AuditEvent.objects.filter(action="prompt.sent", detail__answer="最初の回答").exists()


def test_empty_prompt_is_refused_in_japanese(staff, stub_llm):
    events = send(staff, "   ")
    assert names(events) == ["error"]
    assert "依頼内容が空です" in events[0][1]["message"]
    assert stub_llm.requests == []


def test_a_200000_character_prompt_is_refused_naming_the_limit(staff, stub_llm, tenant_a):
    before = sum(MonthlyUsage.objects.filter(tenant=tenant_a).values_list("used_chars", flat=True))
    events = send(staff, "あ" * 200_000)
    assert names(events) == ["error"]
    assert "30,000文字まで" in events[0][1]["message"]
    assert stub_llm.requests == []
    assert sum(MonthlyUsage.objects.filter(tenant=tenant_a).values_list("used_chars", flat=True)) == before


def test_nobody_can_continue_someone_elses_conversation(client_a, stub_llm, tenant_a):
    owner = logged_in(client_a)
    conversation_id = first(send(owner, PROMPT), "start")["conversation_id"]
    from django.test import Client

    colleague = logged_in(Client(HTTP_HOST="demo-a.localhost"), "A003")
    events = send(colleague, "覗き見", conversation=conversation_id)
    assert names(events) == ["error"]
    assert colleague.get(f"/chat/{conversation_id}/").status_code == 404
    assert colleague.post(f"/chat/{conversation_id}/delete/").status_code == 404


def test_anonymous_send_gets_401_with_a_japanese_message(client_a, stub_llm):
    response = client_a.post("/chat/send/", {"prompt": PROMPT})
    assert response.status_code == 401
    assert "再度ログイン" in response.json()["error"]
