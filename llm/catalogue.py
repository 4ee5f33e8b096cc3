"""The model catalogue: which models staff may pick, the default, and the provider that serves each.

The catalogue is re-read from settings and the environment on every call (a small parse), so that changed
settings take effect without a restart and tests can override them. Providers, which own HTTP connection pools,
are cached, keyed on their connection parameters and options: unchanged settings reuse the pool, changed ones
get a new provider.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from llm.base import ChatProvider, ModelSpec, ProviderError, UnknownModel
from llm.config import (
    CatalogueEntry,
    Connection,
    ProviderOptions,
    azure_connection,
    catalogue_entries,
    compatible_connection,
    offline_chunk_delay,
    provider_options,
    read,
)

if TYPE_CHECKING:
    from collections.abc import Hashable

_providers: dict[Hashable, ChatProvider] = {}
_providers_lock = threading.Lock()


def available_models() -> list[ModelSpec]:
    """The models staff may choose from, in catalogue order (the first is the usual default)."""
    return [entry.spec for entry in catalogue_entries()]


def _entry(name: str) -> CatalogueEntry:
    for entry in catalogue_entries():
        if entry.spec.name == name:
            return entry
    raise UnknownModel(name)


def get_model(name: str) -> ModelSpec:
    """The catalogue's spec called ``name``; UnknownModel (a ProviderError) if there is none."""
    return _entry(name).spec


def default_model_name() -> str:
    """``AKAGI_LLM_DEFAULT_MODEL`` if it names a catalogue model, else the first model of the catalogue."""
    names = [spec.name for spec in available_models()]
    wanted = read("AKAGI_LLM_DEFAULT_MODEL")
    return wanted if wanted in names else names[0]


def _connection_for(model: ModelSpec) -> Connection:
    for entry in catalogue_entries():
        if entry.spec == model:
            return entry.connection
    # A spec that is not (or no longer) in the catalogue, e.g. built by a test or kept across a settings
    # change: serve it from the environment's connection for its provider, if any.
    if model.provider == "offline":
        return Connection("offline")
    fallback = azure_connection() if model.provider == "azure" else compatible_connection()
    if fallback is None:
        raise UnknownModel(model.name)
    return fallback


def _build(connection: Connection, options: ProviderOptions, chunk_delay: float) -> ChatProvider:
    if connection.kind == "offline":
        from llm.offline import OfflineProvider

        return OfflineProvider(chunk_delay=chunk_delay)
    # Imported here so that offline-only deployments and code that only reads the catalogue don't pay for
    # importing the openai package.
    from llm.openai_providers import AzureOpenAIProvider, OpenAICompatibleProvider

    if connection.kind == "azure":
        return AzureOpenAIProvider(
            endpoint=connection.base_url, api_key=connection.api_key, api_version=connection.api_version,
            options=options,
        )
    if connection.kind == "openai_compatible":
        return OpenAICompatibleProvider(base_url=connection.base_url, api_key=connection.api_key, options=options)
    raise ProviderError(
        "AIモデルの設定に誤りがあります。システム管理者にお問い合わせください。",
        code="config", detail=f"unknown provider kind {connection.kind!r}",
    )


def get_provider(model: ModelSpec) -> ChatProvider:
    """The provider that serves ``model``, shared between requests with the same configuration."""
    connection = _connection_for(model)
    options = provider_options()
    chunk_delay = offline_chunk_delay()
    key = (connection, options) if connection.kind != "offline" else (connection, chunk_delay)
    with _providers_lock:
        provider = _providers.get(key)
        if provider is None:
            provider = _providers[key] = _build(connection, options, chunk_delay)
        return provider


async def close_clients() -> None:
    """Close the HTTP connections the cached providers opened on the running event loop.

    Call it before a loop ends when that loop is not the server's (a test's ``asyncio.run``, a management
    command), so that no open socket outlives it. Under uvicorn the pool lives as long as the process.
    """
    with _providers_lock:
        providers = list(_providers.values())
    for provider in providers:
        aclose = getattr(provider, "aclose", None)
        if aclose is not None:
            await aclose()
