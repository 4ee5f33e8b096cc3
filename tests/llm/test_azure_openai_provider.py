"""The Azure OpenAI provider speaks Azure's URL scheme and authentication, against the stub server."""

from __future__ import annotations

from llm.openai_providers import AzureOpenAIProvider
from tests.llm.conftest import AZURE_MODEL, FAST, QUESTION
from tests.support.llm_streams import collect


def test_requests_go_to_the_deployment_path_with_the_api_version(llm_stub):
    provider = AzureOpenAIProvider(
        endpoint=llm_stub.azure_endpoint, api_key="azure-key", api_version="2024-10-21", options=FAST
    )

    result = collect(provider, model=AZURE_MODEL, messages=QUESTION)

    assert result.error is None
    assert result.text.startswith("承知しました。")
    [call] = llm_stub.calls
    assert call.path == "/openai/deployments/gpt-4o-japaneast/chat/completions"
    assert call.deployment == "gpt-4o-japaneast"
    assert call.query["api-version"] == "2024-10-21"
    assert call.headers["api-key"] == "azure-key"
    assert call.body["stream_options"] == {"include_usage": True}


def test_azures_chunk_without_choices_is_skipped_and_usage_is_reported(llm_stub):
    llm_stub.set_behaviour(answer="はい。", chunk_size=1)
    provider = AzureOpenAIProvider(endpoint=llm_stub.azure_endpoint, api_key="azure-key", options=FAST)

    result = collect(provider, model=AZURE_MODEL, messages=QUESTION)

    assert result.deltas == ["は", "い", "。"]
    assert result.done.completion_tokens == 3


def test_without_a_key_it_fails_before_any_request_with_a_configuration_message(llm_stub):
    provider = AzureOpenAIProvider(endpoint=llm_stub.azure_endpoint, api_key="", options=FAST)

    result = collect(provider, model=AZURE_MODEL, messages=QUESTION)

    assert result.error.code == "config"
    assert "システム管理者" in result.error.user_message
    assert llm_stub.calls == []
