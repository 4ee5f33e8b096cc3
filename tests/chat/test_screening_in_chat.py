"""Personal information and banned words stop a prompt before any model sees it."""

import pytest
from django.db import connection

from audit.models import AuditEvent
from guard import services as guard_services
from tenants.models import MonthlyUsage
from tests.chat.helpers import first, logged_in, names, send


def _my_number(body11: str) -> str:
    """A valid 個人番号: 11 digits plus the official check digit."""
    digits = [int(c) for c in body11]
    total = sum(d * (n + 1 if n <= 6 else n - 5) for n, d in enumerate(reversed(digits), start=1))
    remainder = total % 11
    return body11 + str(0 if remainder <= 1 else 11 - remainder)


@pytest.fixture
def staff(client_a, stub_llm):
    return logged_in(client_a)


def test_a_prompt_with_a_my_number_is_blocked_never_reaches_the_model_and_is_audited(staff, stub_llm, tenant_a):
    number = _my_number("12345678901")
    before = sum(MonthlyUsage.objects.filter(tenant=tenant_a).values_list("used_chars", flat=True))
    events = send(staff, f"申請者の個人番号は{number}です。通知文を作って。")
    assert names(events) == ["screened"]
    screened = events[0][1]
    assert screened["decision"] == "block" and screened["can_mask"] is False
    assert any(f["type"] == "my_number" for f in screened["findings"])
    assert stub_llm.requests == []
    assert sum(MonthlyUsage.objects.filter(tenant=tenant_a).values_list("used_chars", flat=True)) == before
    connection.set_tenant(tenant_a)
    event = AuditEvent.objects.filter(action="prompt.blocked").latest("id")
    assert number not in event.detail["prompt"]  # the log keeps the prompt, not the personal number
    assert "【" in event.detail["prompt"]
    assert event.detail["findings"][0]["type"] == "my_number"


def test_a_name_can_be_sent_masked_after_the_user_confirms(staff, stub_llm):
    prompt = "山田太郎さんへのお礼状を書いてください。"
    events = send(staff, prompt)
    assert names(events) == ["screened"]
    screened = events[0][1]
    assert screened["can_mask"] is True
    names_found = [prompt[f["start"]:f["end"]] for f in screened["findings"]]
    assert any("山田" in found for found in names_found)
    assert stub_llm.requests == []

    events = send(staff, prompt, mask=1)
    assert first(events, "done")["status"] == "complete"
    sent = stub_llm.requests[-1]["messages"][-1]["content"]
    assert "山田" not in sent and "【氏名】" in sent
    assert first(events, "start")["sent_text"] == sent


def test_a_banned_word_hidden_by_full_width_letters_and_spaces_is_blocked(staff, stub_llm, tenant_a):
    connection.set_tenant(tenant_a)
    guard_services.add_banned_word(word="極秘案件", actor=None)
    connection.set_schema_to_public()
    events = send(staff, "この 極 秘　案 件 について要約して")
    assert names(events) == ["screened"]
    assert events[0][1]["findings"][0]["type"] == "banned_word"
    events = send(staff, "ＡＢＣ社の件を要約して")
    assert names(events)[0] == "start"  # unrelated text passes


def test_policy_mask_sends_automatically_with_the_parts_masked(staff, stub_llm, tenant_a):
    connection.set_tenant(tenant_a)
    guard_services.set_policy(changes={"phone": "mask"}, actor=None)
    connection.set_schema_to_public()
    events = send(staff, "折り返しは 090-1234-5678 までとお伝えください。")
    assert names(events)[0] == "start"
    sent = stub_llm.requests[-1]["messages"][-1]["content"]
    assert "090-1234-5678" not in sent and "【電話・FAX番号】" in sent
    connection.set_tenant(tenant_a)
    assert AuditEvent.objects.filter(action="prompt.masked").exists()


def test_a_clean_prompt_is_sent_unchanged(staff, stub_llm):
    prompt = "令和7年度予算の概要を、住民向けにやさしく説明する文章を作成してください。"
    events = send(staff, prompt)
    assert names(events)[0] == "start"
    assert stub_llm.requests[-1]["messages"][-1]["content"] == prompt
