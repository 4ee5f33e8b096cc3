"""Each kind of failure reaches staff as a Japanese message saying what to do."""

from __future__ import annotations

from dataclasses import replace

import pytest

from llm import ProviderError
from llm.openai_providers import OpenAICompatibleProvider
from tests.llm.conftest import FAST, QUESTION, STUB_MODEL
from tests.support.llm_streams import collect


def provider_for(stub, options=FAST) -> OpenAICompatibleProvider:
    return OpenAICompatibleProvider(base_url=stub.base_url, options=options)


def test_a_server_that_never_answers_gives_the_timeout_message_within_the_read_timeout(llm_stub):
    llm_stub.set_behaviour(hang=True)
    options = replace(FAST, read_timeout=0.5)

    result = collect(provider_for(llm_stub, options), model=STUB_MODEL, messages=QUESTION)

    assert result.error.code == "timeout"
    assert "応答がタイムアウトしました" in result.error.user_message
    assert 0.5 <= result.elapsed < 1.5, "a read timeout is not retried: staff already waited that long"
    assert len(llm_stub.requests) == 1


def test_a_server_going_silent_mid_answer_ends_with_the_interrupted_message(llm_stub):
    llm_stub.set_behaviour(answer="あいうえおかきくけこ", chunk_size=5, hang_after_chunks=1)
    options = replace(FAST, read_timeout=0.5)

    result = collect(provider_for(llm_stub, options), model=STUB_MODEL, messages=QUESTION)

    assert result.deltas == ["あいうえお"]
    assert result.error.retryable is False
    assert "途中で終わっています" in result.error.user_message
    assert result.elapsed < 1.5


@pytest.mark.parametrize("status", [401, 403])
def test_an_authentication_failure_asks_staff_to_contact_the_administrator(llm_stub, status):
    llm_stub.set_behaviour(fail_status=status)

    result = collect(provider_for(llm_stub), model=STUB_MODEL, messages=QUESTION)

    assert result.error.status == status
    assert result.error.code == "auth"
    assert result.error.retryable is False
    assert "接続設定に問題" in result.error.user_message
    assert "システム管理者にお問い合わせください" in result.error.user_message
    assert len(llm_stub.requests) == 1, "a configuration problem is not retried"


def test_an_unknown_deployment_is_a_configuration_problem(llm_stub):
    llm_stub.set_behaviour(fail_status=404)

    result = collect(provider_for(llm_stub), model=STUB_MODEL, messages=QUESTION)

    assert result.error.code == "config"
    assert "システム管理者" in result.error.user_message


def test_a_question_blocked_by_the_content_filter_says_so_and_is_not_retried(llm_stub):
    llm_stub.set_behaviour(fail_status=400)  # Azure's 400 with code content_filter

    result = collect(provider_for(llm_stub), model=STUB_MODEL, messages=QUESTION)

    assert result.error.code == "content_filter"
    assert result.error.retryable is False
    assert "この質問は" in result.error.user_message
    assert "コンテンツフィルター" in result.error.user_message
    assert "ブロックされました" in result.error.user_message
    assert len(llm_stub.requests) == 1


def test_an_answer_stopped_by_the_content_filter_says_so_and_keeps_what_was_shown(llm_stub):
    llm_stub.set_behaviour(answer="途中までの回答", finish_reason="content_filter")

    result = collect(provider_for(llm_stub), model=STUB_MODEL, messages=QUESTION)

    assert result.text == "途中までの回答"
    assert result.done is None
    assert result.error.code == "content_filter"
    assert result.error.partial_text == "途中までの回答"
    assert "回答が" in result.error.user_message
    assert "コンテンツフィルター" in result.error.user_message


def test_a_too_long_conversation_asks_for_a_new_conversation(llm_stub):
    llm_stub.set_behaviour(
        fail_status=400, fail_code="context_length_exceeded",
        fail_message="This model's maximum context length is 8192 tokens.",
    )

    result = collect(provider_for(llm_stub), model=STUB_MODEL, messages=QUESTION)

    assert result.error.code == "context_length"
    assert "新しい会話" in result.error.user_message


def test_a_provider_error_carries_no_technical_text_in_its_user_message(llm_stub):
    llm_stub.set_behaviour(fail_status=500, fail_count=10)

    error = collect(provider_for(llm_stub), model=STUB_MODEL, messages=QUESTION).error

    assert isinstance(error, ProviderError)
    assert "500" not in error.user_message
    assert "InternalServerError" in error.detail
