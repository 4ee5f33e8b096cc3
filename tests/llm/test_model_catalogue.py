"""Which models staff may choose, built from the environment, a JSON override or a Django setting."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from llm import (
    ProviderError,
    UnknownModel,
    available_models,
    default_model_name,
    get_model,
    get_provider,
)
from llm.openai_providers import AzureOpenAIProvider, OpenAICompatibleProvider
from tests.llm.conftest import QUESTION
from tests.support.llm_streams import collect


@pytest.fixture
def azure_env(monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://akagi-japaneast.openai.azure.com/")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "azure-key")


def names() -> list[str]:
    return [model.name for model in available_models()]


def test_without_configuration_only_the_offline_model_is_offered():
    [model] = available_models()

    assert model.name == "offline" == default_model_name()
    assert model.provider == "offline"
    assert model.label == "オフラインモード（生成AI未設定）"
    assert model.price_per_1k_chars_yen == 0


def test_with_azure_configured_gpt_4o_comes_first_and_is_the_default(azure_env):
    model = get_model("gpt-4o")

    assert names() == ["gpt-4o"]
    assert default_model_name() == "gpt-4o"
    assert model.provider == "azure"
    assert model.deployment == "gpt-4o"
    assert model.context_chars == 100_000
    assert model.max_output_chars == 4000
    assert model.price_per_1k_chars_yen == 2.0
    provider = get_provider(model)
    assert isinstance(provider, AzureOpenAIProvider)
    assert provider.api_version == "2024-10-21"
    assert provider.offline is False


def test_azure_without_its_key_is_not_offered(monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://akagi-japaneast.openai.azure.com/")

    assert names() == ["offline"]


def test_the_mini_model_and_deployment_names_come_from_the_environment(azure_env, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_DEPLOYMENT", "gpt4o-prod")
    monkeypatch.setenv("AZURE_OPENAI_MINI_DEPLOYMENT", "gpt4o-mini-prod")
    monkeypatch.setenv("AZURE_OPENAI_API_VERSION", "2025-01-01-preview")

    assert names() == ["gpt-4o", "gpt-4o-mini"]
    assert get_model("gpt-4o").deployment == "gpt4o-prod"
    mini = get_model("gpt-4o-mini")
    assert mini.deployment == "gpt4o-mini-prod"
    assert mini.price_per_1k_chars_yen == 0.3
    assert get_provider(mini).api_version == "2025-01-01-preview"


def test_empty_variables_count_as_unset(monkeypatch):
    # docker-compose passes unset variables through as empty strings.
    for name in ("AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_API_VERSION"):
        monkeypatch.setenv(name, "")

    assert names() == ["offline"]


def test_an_openai_compatible_server_adds_its_model_after_azure(azure_env, monkeypatch):
    monkeypatch.setenv("OPENAI_COMPAT_BASE_URL", "http://llm.internal:8000/v1")
    monkeypatch.setenv("OPENAI_COMPAT_MODEL", "qwen2.5-14b-instruct")
    monkeypatch.setenv("OPENAI_COMPAT_LABEL", "Qwen2.5（庁内サーバー）")

    assert names() == ["gpt-4o", "qwen2.5-14b-instruct"]
    local = get_model("qwen2.5-14b-instruct")
    assert local.label == "Qwen2.5（庁内サーバー）"
    assert local.deployment == "qwen2.5-14b-instruct"
    provider = get_provider(local)
    assert isinstance(provider, OpenAICompatibleProvider)
    assert provider.base_url == "http://llm.internal:8000/v1"


def test_a_compatible_server_without_a_model_id_is_a_configuration_error(monkeypatch):
    monkeypatch.setenv("OPENAI_COMPAT_BASE_URL", "http://llm.internal:8000/v1")

    with pytest.raises(ImproperlyConfigured, match="OPENAI_COMPAT_MODEL"):
        available_models()


def test_akagi_llm_models_json_replaces_the_catalogue(azure_env, monkeypatch):
    monkeypatch.setenv("LOCAL_LLM_KEY", "local-key")
    monkeypatch.setenv("AKAGI_LLM_MODELS", json.dumps([
        {"name": "local", "label": "庁内LLM", "provider": "openai_compatible", "deployment": "llama3",
         "base_url": "http://llm.internal/v1", "api_key_env": "LOCAL_LLM_KEY", "price_per_1k_chars_yen": 0.1},
        {"name": "gpt-4o", "label": "GPT-4o（東日本）", "provider": "azure", "deployment": "gpt-4o-east"},
    ]))

    assert names() == ["local", "gpt-4o"]
    assert default_model_name() == "local"
    local = get_model("local")
    assert (local.label, local.deployment, local.price_per_1k_chars_yen) == ("庁内LLM", "llama3", 0.1)
    assert local.max_output_chars == 4000
    assert get_provider(local).api_key == "local-key"
    azure = get_provider(get_model("gpt-4o"))
    assert azure.endpoint == "https://akagi-japaneast.openai.azure.com/", "no URL: the environment's Azure"
    assert azure.api_key == "azure-key"


def test_the_akagi_llm_models_setting_replaces_the_catalogue(llm_stub):
    models = [llm_stub.model_config("stub"), {"name": "offline", "provider": "offline"}]
    with override_settings(AKAGI_LLM_MODELS=models):
        assert names() == ["stub", "offline"]
        model = get_model("stub")
        result = collect(get_provider(model), model=model, messages=QUESTION)

    assert result.text.startswith("承知しました。")
    assert llm_stub.requests[0]["model"] == "stub"


def test_a_key_inside_akagi_llm_models_is_refused(monkeypatch):
    monkeypatch.setenv("AKAGI_LLM_MODELS", json.dumps([
        {"name": "x", "provider": "openai_compatible", "base_url": "http://x/v1", "api_key": "sk-123"},
    ]))

    with pytest.raises(ImproperlyConfigured, match="api_key_env"):
        available_models()


def test_the_default_model_can_be_chosen(azure_env, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_MINI_DEPLOYMENT", "mini")
    monkeypatch.setenv("AKAGI_LLM_DEFAULT_MODEL", "gpt-4o-mini")

    assert default_model_name() == "gpt-4o-mini"


def test_an_unknown_model_raises_unknown_model_with_a_japanese_message():
    with pytest.raises(UnknownModel) as caught:
        get_model("gpt-5")

    assert isinstance(caught.value, ProviderError)
    assert "「gpt-5」は現在利用できません" in caught.value.user_message
    assert caught.value.code == "unknown_model"


def test_providers_are_shared_until_their_connection_changes(azure_env, monkeypatch):
    first = get_provider(get_model("gpt-4o"))

    assert get_provider(get_model("gpt-4o")) is first
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "rotated-key")
    rotated = get_provider(get_model("gpt-4o"))
    assert rotated is not first
    assert rotated.api_key == "rotated-key"


def test_timeouts_and_retries_come_from_settings(azure_env):
    with override_settings(AKAGI_LLM_READ_TIMEOUT=5, AKAGI_LLM_CONNECT_TIMEOUT=1.5, AKAGI_LLM_MAX_ATTEMPTS=2):
        options = get_provider(get_model("gpt-4o")).options

    assert (options.read_timeout, options.connect_timeout, options.max_attempts) == (5.0, 1.5, 2)
