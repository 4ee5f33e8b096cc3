"""Transient failures are retried only while nothing has been shown; a broken answer is never restarted."""

from __future__ import annotations

import socket
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from llm.openai_providers import OpenAICompatibleProvider
from llm.retry import retry_after_seconds, retry_delay
from tests.llm.conftest import FAST, QUESTION, STUB_MODEL
from tests.support.llm_streams import collect
from tests.support.llm_stub import default_answer


def provider_for(stub, options=FAST) -> OpenAICompatibleProvider:
    return OpenAICompatibleProvider(base_url=stub.base_url, options=options)


def test_a_429_is_retried_and_the_answer_then_arrives(llm_stub):
    llm_stub.set_behaviour(fail_status=429, fail_count=1, retry_after=0)

    result = collect(provider_for(llm_stub), model=STUB_MODEL, messages=QUESTION)

    assert result.error is None
    assert result.text == default_answer(QUESTION)
    assert len(llm_stub.requests) == 2


def test_retry_after_is_honoured(llm_stub):
    llm_stub.set_behaviour(fail_status=429, fail_count=1, retry_after=0.4)

    result = collect(provider_for(llm_stub), model=STUB_MODEL, messages=QUESTION)

    assert result.error is None
    assert result.elapsed >= 0.4


def test_a_retry_after_beyond_the_limit_fails_at_once_with_the_busy_message(llm_stub):
    llm_stub.set_behaviour(fail_status=429, fail_count=5, retry_after=60)
    options = replace(FAST, retry_after_max=5.0)

    result = collect(provider_for(llm_stub, options), model=STUB_MODEL, messages=QUESTION)

    assert result.error.user_message == "生成AIサービスが混み合っています。しばらく待ってから再度お試しください。"
    assert result.error.status == 429
    assert result.error.retryable is True
    assert len(llm_stub.requests) == 1
    assert result.elapsed < 2


def test_a_persistent_500_gives_up_after_the_maximum_attempts_with_the_outage_message(llm_stub):
    llm_stub.set_behaviour(fail_status=500, fail_count=10)

    result = collect(provider_for(llm_stub), model=STUB_MODEL, messages=QUESTION)

    assert len(llm_stub.requests) == FAST.max_attempts == 3
    assert result.error.status == 500
    assert result.error.code == "server_error"
    assert result.error.retryable is True
    assert "障害が発生しています" in result.error.user_message
    assert result.deltas == []


def test_503_then_success_is_transparent_to_the_caller(llm_stub):
    llm_stub.set_behaviour(fail_status=503, fail_count=2)

    result = collect(provider_for(llm_stub), model=STUB_MODEL, messages=QUESTION)

    assert result.error is None
    assert len(llm_stub.requests) == 3


def test_a_refused_connection_is_retried_then_reported_as_unreachable():
    with socket.socket() as sock:  # a port nobody listens on: bound, never listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        provider = OpenAICompatibleProvider(base_url=f"http://127.0.0.1:{port}/v1", options=FAST)

        result = collect(provider, model=STUB_MODEL, messages=QUESTION)

    assert result.error.code == "connection"
    assert result.error.retryable is True
    assert "接続できませんでした" in result.error.user_message


def test_a_connection_dropped_mid_answer_is_not_retried_and_keeps_the_partial_answer(llm_stub):
    llm_stub.set_behaviour(answer="あいうえおかきくけこさしすせそ", chunk_size=5, fail_after_chunks=2)

    result = collect(provider_for(llm_stub), model=STUB_MODEL, messages=QUESTION)

    assert result.deltas == ["あいうえお", "かきくけこ"]
    assert result.done is None
    assert result.error.retryable is False
    assert result.error.code == "interrupted"
    assert result.error.partial_text == "あいうえおかきくけこ"
    assert "途中で終わっています" in result.error.user_message
    assert len(llm_stub.requests) == 1


def test_a_server_error_event_mid_answer_is_reported_the_same_way(llm_stub):
    llm_stub.set_behaviour(answer="あいうえおかきくけこ", chunk_size=5, fail_after_chunks=1, fail_mode="error_event")

    result = collect(provider_for(llm_stub), model=STUB_MODEL, messages=QUESTION)

    assert result.deltas == ["あいうえお"]
    assert result.error.retryable is False
    assert result.error.partial_text == "あいうえお"
    assert "途中で終わっています" in result.error.user_message
    assert len(llm_stub.requests) == 1


def test_a_stream_broken_before_its_first_token_is_retried(llm_stub):
    llm_stub.set_behaviour(fail_after_chunks=0)
    provider = provider_for(llm_stub)

    result = collect(provider, model=STUB_MODEL, messages=QUESTION)

    assert len(llm_stub.requests) == FAST.max_attempts
    assert result.error.retryable is True
    assert result.error.code == "connection"


class FakeResponse:
    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers


class FakeRateLimit(Exception):
    def __init__(self, headers: dict[str, str]) -> None:
        self.response = FakeResponse(headers)


def test_retry_after_may_be_given_in_milliseconds_seconds_or_as_a_date():
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)

    assert retry_after_seconds(FakeRateLimit({"retry-after-ms": "1500", "retry-after": "9"})) == 1.5
    assert retry_after_seconds(FakeRateLimit({"retry-after": "7"})) == 7
    assert 25 < retry_after_seconds(FakeRateLimit({"retry-after": later})) <= 30
    assert retry_after_seconds(FakeRateLimit({})) is None
    assert retry_after_seconds(ValueError()) is None


def test_backoff_grows_exponentially_with_jitter_up_to_its_cap():
    options = replace(FAST, backoff_base=1.0, backoff_max=4.0)
    error = FakeRateLimit({})

    delays = [retry_delay(error, attempt, options) for attempt in (1, 2, 3, 4)]

    assert 0.5 <= delays[0] <= 1.0
    assert 1.0 <= delays[1] <= 2.0
    assert 2.0 <= delays[2] <= 4.0
    assert 2.0 <= delays[3] <= 4.0
