"""ログ: administrators search every prompt and answer, and every operation, of their municipality."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.db import connection

from accounts.models import User
from audit.models import AuditEvent
from audit.services import record
from tests.conftest import login

JST = ZoneInfo("Asia/Tokyo")
PROMPTS = "/manage/logs/prompts/"
OPERATIONS = "/manage/logs/operations/"


def marker() -> str:
    """A word no other test (nor a committed live-server run) has written into the trail."""
    # Letters only: a run of digits could look like a phone number to the screening and be held back.
    return "印" + uuid.uuid4().hex[:10].translate(str.maketrans("0123456789", "ghijklmnop"))


def admin_of_a(client):
    login(client, "A001", "Kanri#Demo2026")
    return client


def prompt_event(user, *, action="prompt.sent", prompt="", answer="", model="stub-gpt", findings=(), **extra):
    detail = {"model": model, "status": "complete", "prompt": prompt, "answer": answer,
              "prompt_chars": len(prompt), "answer_chars": len(answer), "prompt_tokens": 3,
              "completion_tokens": 5, "findings": list(findings), "latency_ms": 120, "cancelled": False,
              "offline": False, **extra}
    if action in {"prompt.blocked", "prompt.refused"}:
        detail = {"model": model, "prompt": prompt, "findings": list(findings), "decision": "block"}
    return record(action=action, actor=user, target="conversation:1", detail=detail)


def shown_ids(response) -> list[int]:
    assert response.status_code == 200
    return [int(i) for i in re.findall(r'data-event-id="(\d+)"', response.content.decode())]


def all_pages(client, path: str, params: dict) -> list[int]:
    """Event ids the screen lists for ``params``, every page in order."""
    ids, page = [], 1
    while True:
        response = client.get(path, {**params, "page": page})
        ids += shown_ids(response)
        if "次のページ" not in response.content.decode():
            return ids
        page += 1


def users_of(tenant) -> dict[str, User]:
    connection.set_tenant(tenant)
    users = {u.staff_number: u for u in User.objects.all()}
    connection.set_schema_to_public()
    return users


@pytest.fixture
def staff_a(tenant_a):
    return users_of(tenant_a)


def at(monkeypatch, when: datetime):
    """Record the next events as if written at ``when`` (JST)."""
    monkeypatch.setattr("audit.services.timezone.now", lambda: when)


# --------------------------------------------------------------------------- prompt log


def test_the_prompt_log_lists_every_users_prompts_and_answers_newest_first_50_per_page(client_a, tenant_a, staff_a):
    word = marker()
    connection.set_tenant(tenant_a)
    events = [prompt_event(staff_a["A002" if n % 2 else "A003"], prompt=f"{word} 依頼{n}", answer=f"回答{n}")
              for n in range(55)]
    admin = admin_of_a(client_a)
    first = admin.get(PROMPTS, {"text": word})
    page = first.content.decode()
    assert shown_ids(first) == [e.pk for e in reversed(events)][:50]
    assert "55件" in page and "1 / 2 ページ" in page
    assert "佐藤 花子" in page and "鈴木 一郎" in page and "stub-gpt" in page and "送信" in page
    second = admin.get(PROMPTS, {"text": word, "page": 2})
    assert shown_ids(second) == [e.pk for e in reversed(events)][50:]


def test_prompts_and_answers_are_escaped_and_long_ones_fold_into_details(client_a, tenant_a, staff_a):
    word = marker()
    long_answer = "長い回答です。" * 30 + "最後の一文"
    connection.set_tenant(tenant_a)
    prompt_event(staff_a["A002"], prompt=f"{word}<script>alert(1)</script>", answer=long_answer)
    page = admin_of_a(client_a).get(PROMPTS, {"text": word}).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<details><summary>" in page and "最後の一文" in page  # the whole answer is one click away


@pytest.mark.parametrize("who", ["A002", "ａ００２", "佐藤", "佐藤花子"])
def test_the_prompt_log_filters_by_staff_number_or_name(client_a, tenant_a, staff_a, who):
    word = marker()
    connection.set_tenant(tenant_a)
    sato = prompt_event(staff_a["A002"], prompt=f"{word} 佐藤さんの依頼")
    prompt_event(staff_a["A003"], prompt=f"{word} 鈴木さんの依頼")
    assert shown_ids(admin_of_a(client_a).get(PROMPTS, {"text": word, "user": who})) == [sato.pk]


def test_the_prompt_log_finds_a_deleted_users_prompts_by_the_recorded_name(client_a, tenant_a, staff_a):
    word = marker()
    connection.set_tenant(tenant_a)
    gone = User.objects.create_user("A900", "gone@city.akagi.example.jp", "Taishoku#2026x", full_name="退職 次郎")
    event = prompt_event(gone, prompt=f"{word} 退職前の依頼")
    gone.delete()
    page = admin_of_a(client_a).get(PROMPTS, {"text": word, "user": "退職"})
    assert shown_ids(page) == [event.pk] and "A900" in page.content.decode()


def test_the_prompt_log_filters_by_the_users_current_group(client_a, tenant_a, staff_a):
    word = marker()
    connection.set_tenant(tenant_a)
    group = Group.objects.create(name="税務課ログ確認")
    staff_a["A002"].groups.add(group)
    sato = prompt_event(staff_a["A002"], prompt=f"{word} 税務課の依頼")
    prompt_event(staff_a["A003"], prompt=f"{word} 福祉課の依頼")
    admin = admin_of_a(client_a)
    assert shown_ids(admin.get(PROMPTS, {"text": word, "group": group.pk})) == [sato.pk]
    response = admin.get(PROMPTS, {"text": word, "group": "99999"})
    assert shown_ids(response) == [] and "グループが見つかりません" in response.content.decode()


def test_the_prompt_log_filters_by_jst_dates_including_both_ends(client_a, tenant_a, staff_a, monkeypatch):
    word = marker()
    connection.set_tenant(tenant_a)
    made = {}
    for label, when in [
        ("before", datetime(2026, 3, 31, 23, 59, 59, tzinfo=JST)),
        ("first_moment", datetime(2026, 4, 1, 0, 0, 0, tzinfo=JST)),  # 2026-03-31 15:00 UTC
        ("last_day_night", datetime(2026, 4, 30, 23, 59, 59, tzinfo=JST)),
        ("after", datetime(2026, 5, 1, 0, 0, 0, tzinfo=JST)),
    ]:
        at(monkeypatch, when)
        made[label] = prompt_event(staff_a["A002"], prompt=f"{word} {label}")
    monkeypatch.undo()
    admin = admin_of_a(client_a)
    ids = shown_ids(admin.get(PROMPTS, {"text": word, "date_from": "2026-04-01", "date_to": "2026-04-30"}))
    assert ids == [made["last_day_night"].pk, made["first_moment"].pk]
    assert shown_ids(admin.get(PROMPTS, {"text": word, "date_from": "2026/05/01"})) == [made["after"].pk]
    assert shown_ids(admin.get(PROMPTS, {"text": word, "date_to": "２０２６－０３－３１"})) == [made["before"].pk]


@pytest.mark.parametrize(("params", "message"), [
    ({"date_from": "2026-13-01"}, "開始日の形式が正しくありません"),
    ({"date_to": "きのう"}, "終了日の形式が正しくありません"),
    ({"date_from": "2026-05-01", "date_to": "2026-04-01"}, "開始日が終了日より後になっています"),
    ({"date_from": "1899-01-01"}, "2000年から2100年"),
    ({"result": "deleted"}, "結果は一覧から選んでください"),
    ({"text": "長" * 201}, "200文字以内"),
])
def test_bad_filter_input_gets_a_japanese_message_and_no_rows(client_a, tenant_a, staff_a, params, message):
    connection.set_tenant(tenant_a)
    prompt_event(staff_a["A002"], prompt="何かの依頼")
    response = admin_of_a(client_a).get(PROMPTS, params)
    assert response.status_code == 200
    assert message in response.content.decode() and shown_ids(response) == []


def test_the_prompt_log_filters_by_model(client_a, tenant_a, staff_a):
    word = marker()
    connection.set_tenant(tenant_a)
    mini = prompt_event(staff_a["A002"], prompt=f"{word} 小さいモデル", model="stub-mini")
    prompt_event(staff_a["A002"], prompt=f"{word} 既定のモデル", model="stub-gpt")
    assert shown_ids(admin_of_a(client_a).get(PROMPTS, {"text": word, "model": "stub-mini"})) == [mini.pk]


def test_the_prompt_log_searches_text_in_prompts_and_answers(client_a, tenant_a, staff_a):
    word = marker()
    connection.set_tenant(tenant_a)
    in_prompt = prompt_event(staff_a["A002"], prompt=f"保育園の{word}について", answer="回答")
    in_answer = prompt_event(staff_a["A003"], prompt="質問", answer=f"{word.upper()}をご確認ください")
    prompt_event(staff_a["A003"], prompt="関係のない依頼", answer="関係のない回答")
    assert shown_ids(admin_of_a(client_a).get(PROMPTS, {"text": word})) == [in_answer.pk, in_prompt.pk]


@pytest.mark.parametrize(("result", "action", "label"), [
    ("sent", "prompt.sent", "送信"),
    ("masked", "prompt.masked", "マスクして送信"),
    ("blocked", "prompt.blocked", "ブロック"),
    ("refused", "prompt.refused", "上限で拒否"),
])
def test_the_prompt_log_filters_by_screening_result(client_a, tenant_a, staff_a, result, action, label):
    word = marker()
    connection.set_tenant(tenant_a)
    events = {a: prompt_event(staff_a["A002"], action=a, prompt=f"{word} {a}",
                              findings=[{"type": "phone", "start": 0, "end": 3, "action": "mask"}])
              for a in ("prompt.sent", "prompt.masked", "prompt.blocked", "prompt.refused")}
    response = admin_of_a(client_a).get(PROMPTS, {"text": word, "result": result})
    assert shown_ids(response) == [events[action].pk]
    page = response.content.decode()
    assert f"<td>{label}<br>" in page and "個人情報: 電話・FAX番号" in page


def test_a_prompt_sent_through_chat_appears_in_the_log(client_a, tenant_a, stub_llm):
    from tests.chat.helpers import first, logged_in, send

    word = marker()
    staff = logged_in(client_a)
    assert first(send(staff, f"{word} の説明をしてください"), "done")["status"] == "complete"
    staff.post("/accounts/logout/")
    page = admin_of_a(client_a).get(PROMPTS, {"text": word, "user": "A002", "result": "sent"})
    assert len(shown_ids(page)) == 1 and "stub-gpt" in page.content.decode()


def test_the_prompt_log_lists_no_operations(client_a, tenant_a, staff_a):
    word = marker()
    connection.set_tenant(tenant_a)
    record(action="settings.models", actor=staff_a["A001"], target=word)
    prompt = prompt_event(staff_a["A002"], prompt=word)
    assert shown_ids(admin_of_a(client_a).get(PROMPTS, {"user": "A001"})) == []
    assert prompt.pk in shown_ids(admin_of_a(client_a).get(PROMPTS))


# --------------------------------------------------------------------------- operation log


CATEGORY_OF = {
    "login": "login", "login.failed": "login", "logout": "login",
    "user.create": "users", "group.update": "users",
    "guard.policy": "settings", "settings.models": "settings",
    "users.import": "transfer", "export.start": "transfer",
    "access.denied": "denied",
    "conversation.delete": "other",
}


@pytest.mark.parametrize("category", ["login", "users", "settings", "transfer", "denied", "other"])
def test_the_operation_log_filters_by_category(client_a, tenant_a, staff_a, category):
    word = marker()
    connection.set_tenant(tenant_a)
    made = {action: record(action=action, actor=staff_a["A001"], target=f"{word}:{action}") for action in CATEGORY_OF}
    ids = shown_ids(admin_of_a(client_a).get(OPERATIONS, {"text": word, "category": category}))
    assert ids == [e.pk for action, e in reversed(made.items()) if CATEGORY_OF[action] == category]


def test_the_operation_log_filters_by_user_dates_and_text_in_target_or_detail(
        client_a, tenant_a, staff_a, monkeypatch):
    word = marker()
    connection.set_tenant(tenant_a)
    at(monkeypatch, datetime(2026, 6, 10, 9, 0, tzinfo=JST))
    by_admin = record(action="user.update", actor=staff_a["A001"], target="user:A002",
                      detail={"department": {"before": "市民課", "after": f"{word}課"}})
    at(monkeypatch, datetime(2026, 6, 11, 9, 0, tzinfo=JST))
    by_sato = record(action="user.password_change", actor=staff_a["A002"], target=f"user:{word}")
    monkeypatch.undo()
    prompt_event(staff_a["A002"], prompt=word)  # a prompt is no operation
    admin = admin_of_a(client_a)
    assert shown_ids(admin.get(OPERATIONS, {"text": word})) == [by_sato.pk, by_admin.pk]
    assert shown_ids(admin.get(OPERATIONS, {"text": word, "user": "管理"})) == [by_admin.pk]
    assert shown_ids(admin.get(OPERATIONS, {"text": word, "date_from": "2026-06-11"})) == [by_sato.pk]
    assert shown_ids(admin.get(OPERATIONS, {"text": word, "date_to": "2026-06-10"})) == [by_admin.pk]
    page = admin.get(OPERATIONS, {"text": word}).content.decode()
    assert "user.password_change" in page and "ログイン関連" in page and f"{word}課" in page


def test_the_operation_log_finds_anonymous_failed_logins_by_label(client_a, tenant_a):
    word = marker()
    connection.set_tenant(tenant_a)
    failed = record(action="login.failed", actor_label="anonymous", target=word)
    page = admin_of_a(client_a).get(OPERATIONS, {"user": "anonymous", "category": "login", "text": word})
    assert shown_ids(page) == [failed.pk]


def test_a_bad_category_is_refused_in_japanese(client_a, tenant_a):
    response = admin_of_a(client_a).get(OPERATIONS, {"category": "everything"})
    assert response.status_code == 200 and "操作の種類は一覧から選んでください" in response.content.decode()


# --------------------------------------------------------------------------- who may look


@pytest.mark.parametrize("path", [PROMPTS, OPERATIONS])
def test_another_municipalitys_admin_sees_none_of_our_events(client_a, client_b, tenant_a, staff_a, path):
    word = marker()
    connection.set_tenant(tenant_a)
    prompt_event(staff_a["A002"], prompt=word)
    record(action="settings.models", actor=staff_a["A001"], target=word)
    login(client_b, "B001", "Kanri#Demo2026")
    assert shown_ids(client_b.get(path, {"text": word})) == []
    connection.set_tenant(tenant_a)
    assert AuditEvent.objects.filter(target=word).exists()  # they are there, in demo-a
