"""Every test here starts from "nothing configured" and has the stub LLM server at hand."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import override_settings

from llm.base import ModelSpec
from llm.config import SETTING_NAMES, ProviderOptions

# Short timeouts and backoff keep failure tests fast; the policy under test is the same.
FAST = ProviderOptions(connect_timeout=2.0, read_timeout=2.0, max_attempts=3, backoff_base=0.01, backoff_max=0.05)

STUB_MODEL = ModelSpec(
    name="stub-model",
    label="スタブモデル",
    provider="openai_compatible",
    deployment="stub-model-id",
    context_chars=16_000,
    max_output_chars=800,
    price_per_1k_chars_yen=0.0,
)
AZURE_MODEL = ModelSpec(
    name="gpt-4o",
    label="GPT-4o（Azure OpenAI）",
    provider="azure",
    deployment="gpt-4o-japaneast",
    context_chars=100_000,
    max_output_chars=4000,
    price_per_1k_chars_yen=2.0,
)
QUESTION = [{"role": "user", "content": "住民票の写しの交付手数料はいくらですか？"}]


@pytest.fixture(autouse=True)
def unconfigured_llm(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Blank every setting and variable llm.config reads, whatever the developer's shell or settings hold."""
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    with override_settings(**dict.fromkeys(SETTING_NAMES)):
        yield
