"""The OpenAI-compatible provider against the stub server, over real HTTP with the real openai client."""

from __future__ import annotations

import asyncio

from llm import Passage
from llm.openai_providers import OpenAICompatibleProvider
from tests.llm.conftest import FAST, QUESTION, STUB_MODEL
from tests.support.llm_streams import collect, consume, run


def provider_for(stub, **kwargs) -> OpenAICompatibleProvider:
    return OpenAICompatibleProvider(base_url=stub.base_url, options=FAST, **kwargs)


def test_an_answer_arrives_in_several_deltas_and_ends_with_usage(llm_stub):
    llm_stub.set_behaviour(answer="住民票の写しの交付手数料は1通300円です。", chunk_size=5)

    result = collect(provider_for(llm_stub), model=STUB_MODEL, messages=QUESTION)

    assert result.error is None
    assert result.text == "住民票の写しの交付手数料は1通300円です。"
    assert len(result.deltas) == 5
    assert result.done.finish_reason == "stop"
    assert result.done.prompt_tokens == len(QUESTION[0]["content"])
    assert result.done.completion_tokens == len(result.text)


def test_the_default_stub_answer_is_japanese_markdown_echoing_the_question_length(llm_stub):
    result = collect(provider_for(llm_stub), model=STUB_MODEL, messages=QUESTION)

    assert result.text.startswith("承知しました。")
    assert f"{len(QUESTION[0]['content'])}文字" in result.text
    assert "\n- " in result.text


def test_the_request_names_the_model_id_caps_the_output_and_asks_for_usage(llm_stub):
    collect(provider_for(llm_stub), model=STUB_MODEL, messages=QUESTION)

    [call] = llm_stub.calls
    assert call.path == "/v1/chat/completions"
    assert call.body["model"] == "stub-model-id"
    assert call.body["stream"] is True
    assert call.body["stream_options"] == {"include_usage": True}
    assert call.body["max_tokens"] == STUB_MODEL.max_output_chars
    assert call.body["messages"] == QUESTION


def test_a_caller_limit_on_output_tokens_is_sent_as_max_tokens(llm_stub):
    collect(provider_for(llm_stub), model=STUB_MODEL, messages=QUESTION, max_output_tokens=123)

    assert llm_stub.requests[0]["max_tokens"] == 123


def test_an_optional_api_key_is_sent_as_a_bearer_token(llm_stub):
    collect(provider_for(llm_stub, api_key="secret-token"), model=STUB_MODEL, messages=QUESTION)

    assert llm_stub.calls[0].headers["authorization"] == "Bearer secret-token"


def test_passages_become_numbered_sources_in_a_new_system_message(llm_stub):
    llm_stub.set_behaviour(echo=True)
    passages = [
        Passage(1, "手数料条例", "住民票の写しは1通300円とする。", url="https://example.jp/jorei"),
        Passage(2, "窓口案内", "土曜日は午前のみ開庁します。"),
    ]

    result = collect(provider_for(llm_stub), model=STUB_MODEL, messages=QUESTION, passages=passages)

    system, user = llm_stub.requests[0]["messages"]
    assert system["role"] == "system"
    assert "[1] 手数料条例\n住民票の写しは1通300円とする。" in system["content"]
    assert "[2] 窓口案内\n土曜日は午前のみ開庁します。" in system["content"]
    assert "https://example.jp/jorei" in system["content"]
    assert "資料" in system["content"]
    assert "[1] のように" in system["content"]
    assert user == QUESTION[0]
    assert result.text.startswith("system: ")


def test_passages_are_appended_to_the_callers_system_message_which_stays_first(llm_stub):
    messages = [{"role": "system", "content": "あなたは市役所職員の補助をします。"}, *QUESTION]

    collect(
        provider_for(llm_stub), model=STUB_MODEL, messages=messages, passages=[Passage(1, "条例", "本文。")]
    )

    sent = llm_stub.requests[0]["messages"]
    assert len(sent) == 2
    assert sent[0]["content"].startswith("あなたは市役所職員の補助をします。\n\n")
    assert "[1] 条例\n本文。" in sent[0]["content"]
    assert messages[0]["content"] == "あなたは市役所職員の補助をします。", "the caller's history is not modified"


def test_a_server_that_ignores_stream_options_still_answers_without_usage(llm_stub):
    llm_stub.set_behaviour(usage=False, answer="回答です。")

    result = collect(provider_for(llm_stub), model=STUB_MODEL, messages=QUESTION)

    assert result.text == "回答です。"
    assert result.done.prompt_tokens is None
    assert result.done.completion_tokens is None
    assert result.done.finish_reason == "stop"


def test_a_server_that_rejects_stream_options_is_asked_again_without_them(llm_stub):
    llm_stub.set_behaviour(
        fail_status=400, fail_code="invalid_request", fail_message="Unrecognized request argument: stream_options",
        answer="回答です。",
    )
    provider = provider_for(llm_stub)

    result = collect(provider, model=STUB_MODEL, messages=QUESTION)
    later = collect(provider, model=STUB_MODEL, messages=QUESTION)

    assert result.text == later.text == "回答です。"
    first, retried, remembered = llm_stub.requests
    assert "stream_options" in first
    assert "stream_options" not in retried
    assert "stream_options" not in remembered


def test_two_hundred_concurrent_streams_are_all_answered(llm_stub):
    llm_stub.set_behaviour(chunk_size=4, chunk_delay=0.005)
    provider = provider_for(llm_stub)
    questions = [[{"role": "user", "content": "あ" * (i + 1)}] for i in range(200)]

    async def ask_all():
        return await asyncio.gather(*(consume(provider, model=STUB_MODEL, messages=q) for q in questions))

    results = run(ask_all(), provider)

    assert [r.error for r in results] == [None] * 200
    assert all(f"{i + 1}文字" in r.text for i, r in enumerate(results))
    assert len(llm_stub.requests) == 200


def test_a_caller_that_stops_reading_closes_the_stream_and_the_provider_keeps_working(llm_stub):
    llm_stub.set_behaviour(answer="あ" * 200, chunk_size=2, chunk_delay=0.01)
    provider = provider_for(llm_stub)

    async def read_two_then_leave():
        stream = provider.stream_chat(model=STUB_MODEL, messages=QUESTION)
        received = [await anext(stream), await anext(stream)]
        await stream.aclose()  # what the SSE view does when staff close the tab
        return received, await consume(provider, model=STUB_MODEL, messages=QUESTION)

    received, after = run(read_two_then_leave(), provider)

    assert [event.text for event in received] == ["ああ", "ああ"]
    assert after.error is None
    assert after.text == "あ" * 200
