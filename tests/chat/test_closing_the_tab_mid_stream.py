"""A user who closes the tab mid-stream: the model call is cancelled and the month settled to what was used."""

import http.client
import time
import urllib.parse

import pytest
from django.db import connection

from tenants.models import MonthlyUsage, Tenant
from tests.chat.live import LiveSession
from usage.models import UsageRecord
from usage.quota import current_month

pytestmark = pytest.mark.django_db

PROMPT = "長い報告書の要約を作ってください。"


def test_closing_the_connection_cancels_the_answer_and_settles_the_reservation(live_server_url, llm_stub_server):
    tenant = Tenant.objects.get(slug="demo-b")
    session = LiveSession(live_server_url, "demo-b.localhost")
    session.login("B003", "Shokuin#Demo2026")
    month = current_month()
    used_before = MonthlyUsage.objects.filter(tenant=tenant, month=month).values_list(
        "used_chars", flat=True).first() or 0
    llm_stub_server.set_behaviour(answer="とても長い回答。" * 200, chunk_size=4, chunk_delay=0.05)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", session.port, timeout=30)
        body = urllib.parse.urlencode({"prompt": PROMPT})
        conn.request("POST", "/chat/send/", body=body, headers=session._headers({
            "Content-Type": "application/x-www-form-urlencoded", "X-CSRFToken": session.cookies["csrftoken"],
        }))
        response = conn.getresponse()
        assert response.status == 200
        received = b""
        while received.count(b"event: delta") < 5:
            received += response.read1(1024)
        conn.sock.close()  # the tab is closed
        conn.close()

        deadline = time.monotonic() + 20
        record = None
        while time.monotonic() < deadline:
            connection.set_tenant(tenant)
            record = UsageRecord.objects.filter(user_label__startswith="鈴木 一郎", status="cancelled").first()
            connection.set_schema_to_public()
            if record:
                break
            time.sleep(0.2)
    finally:
        llm_stub_server.reset()

    assert record is not None, "the cancelled answer was not settled"
    assert 0 < record.answer_chars < len("とても長い回答。" * 200)
    used_after = MonthlyUsage.objects.get(tenant=tenant, month=month).used_chars
    assert used_after - used_before == len(PROMPT) + record.answer_chars
