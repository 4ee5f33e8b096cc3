"""Owners list, search, rename and delete their conversations; offline mode says so."""

import pytest
from django.db import connection

from audit.models import AuditEvent
from chat.models import Conversation
from tests.chat.helpers import first, logged_in, send


@pytest.fixture
def staff(client_a, stub_llm):
    return logged_in(client_a)


def test_conversations_are_listed_searchable_renamable_and_deletable(staff, stub_llm, tenant_a):
    stub_llm.set_behaviour(answer="防災訓練の案内です。")
    first_id = first(send(staff, "防災訓練のお知らせを作って"), "start")["conversation_id"]
    stub_llm.set_behaviour(answer="予算の説明です。")
    second_id = first(send(staff, "予算説明の資料を作って"), "start")["conversation_id"]

    page = staff.get("/chat/").content.decode()
    assert "防災訓練のお知らせを作って" in page and "予算説明の資料を作って" in page
    found = staff.get("/chat/", {"q": "防災"}).content.decode()
    assert f"/chat/{first_id}/" in found and f"/chat/{second_id}/" not in found
    by_answer = staff.get("/chat/", {"q": "予算の説明"}).content.decode()
    assert f"/chat/{second_id}/" in by_answer  # the answers are searched too

    staff.post(f"/chat/{first_id}/rename/", {"title": "10月の防災訓練"})
    assert "10月の防災訓練" in staff.get(f"/chat/{first_id}/").content.decode()

    response = staff.post(f"/chat/{second_id}/delete/")
    assert response.status_code == 302
    connection.set_tenant(tenant_a)
    assert not Conversation.objects.filter(pk=second_id).exists()
    assert AuditEvent.objects.filter(action="prompt.sent", detail__prompt="予算説明の資料を作って").exists()


def test_an_empty_title_is_refused(staff, stub_llm, tenant_a):
    conversation_id = first(send(staff, "タイトルのテスト"), "start")["conversation_id"]
    response = staff.post(f"/chat/{conversation_id}/rename/", {"title": "  "}, follow=True)
    assert "タイトルを入力してください" in response.content.decode()


def test_without_a_configured_model_the_chat_runs_in_labelled_offline_mode(client_a, settings):
    for name in ("AKAGI_LLM_MODELS", "AZURE_OPENAI_ENDPOINT", "OPENAI_COMPAT_BASE_URL"):
        setattr(settings, name, None)
    staff = logged_in(client_a)
    page = staff.get("/chat/").content.decode()
    assert "オフラインモード" in page
    events = send(staff, "窓口の案内文を作って")
    assert first(events, "start")["offline"] is True
    answer = "".join(data["text"] for name, data in events if name == "delta")
    assert "オフラインモード" in answer and "AZURE_OPENAI_ENDPOINT" in answer
    assert first(events, "done")["chars"] == 0  # canned guidance, no model: it costs the municipality nothing
