"""Reading the LLM configuration: the model catalogue's sources and the client knobs.

Every value is read first from a Django setting of the same name (``getattr(settings, NAME)``; tests use
``override_settings``), then from the environment variable, then a default. An empty value counts as unset,
because docker-compose passes unset variables through as empty strings.

Model catalogue (see ``llm.catalogue``):

``AZURE_OPENAI_ENDPOINT``, ``AZURE_OPENAI_API_KEY``
    Both set: the catalogue offers Azure OpenAI models. Assumes a Japan East/West resource with a GPT-4o (or
    newer) deployment, so prompts stay in Japan.
``AZURE_OPENAI_API_VERSION``
    Azure OpenAI REST API version (default ``2024-10-21``, the GA version with ``stream_options``).
``AZURE_OPENAI_DEPLOYMENT``
    Deployment name behind the model ``gpt-4o`` (default ``gpt-4o``).
``AZURE_OPENAI_MINI_DEPLOYMENT``
    If set, a second model ``gpt-4o-mini`` served by this deployment.
``AZURE_OPENAI_LABEL``, ``AZURE_OPENAI_MINI_LABEL``
    Display labels (defaults 「GPT-4o（Azure OpenAI）」, 「GPT-4o mini（Azure OpenAI）」), e.g. to name the region.
``AZURE_OPENAI_PRICE_PER_1K_CHARS_YEN``, ``AZURE_OPENAI_MINI_PRICE_PER_1K_CHARS_YEN``
    Yen per 1,000 characters (prompt + answer). Defaults 2.0 and 0.3 are examples only: the operator sets the
    prices from the actual contract.
``OPENAI_COMPAT_BASE_URL``
    If set, the catalogue offers one model on an OpenAI-compatible server (vLLM, Ollama, LiteLLM, llama.cpp
    server), e.g. ``http://llm.internal:8000/v1``.
``OPENAI_COMPAT_MODEL``
    Required with ``OPENAI_COMPAT_BASE_URL``: the model id the server expects; also the catalogue name.
``OPENAI_COMPAT_LABEL``
    Display label (default 「<model>（OpenAI互換サーバー）」).
``OPENAI_COMPAT_API_KEY``
    Optional bearer token for that server.
``OPENAI_COMPAT_CONTEXT_CHARS``, ``OPENAI_COMPAT_MAX_OUTPUT_CHARS``, ``OPENAI_COMPAT_PRICE_PER_1K_CHARS_YEN``
    Defaults 16000, 4000 and 0 (self-hosted models vary too much for a better default).
``AKAGI_LLM_MODELS``
    Replaces all of the above: a JSON list (or, as a Django setting, a list of dicts) of ModelSpec fields
    (``name``, ``label``, ``provider``, ``deployment``, ``context_chars``, ``max_output_chars``,
    ``price_per_1k_chars_yen``) plus connection keys ``base_url`` (``endpoint`` for Azure), ``api_version`` and
    ``api_key_env`` — the *name* of the environment variable holding the key. A key itself (``api_key``) is
    refused so that secrets never end up in a JSON blob that gets copied around. An entry without a URL uses
    the URL and key of the AZURE_OPENAI_* / OPENAI_COMPAT_* variables above; an entry with its own URL only
    gets the key named by its ``api_key_env``, so a key is never sent to a server it wasn't meant for.
``AKAGI_LLM_DEFAULT_MODEL``
    Catalogue name of the default model (default: the first in the catalogue).

Neither Azure nor a compatible server configured: the catalogue holds only the ``offline`` model.

Client behaviour:

``AKAGI_LLM_CONNECT_TIMEOUT`` (10 s), ``AKAGI_LLM_READ_TIMEOUT`` (60 s: the longest wait for the first or
next chunk), ``AKAGI_LLM_MAX_ATTEMPTS`` (3, including the first), ``AKAGI_LLM_BACKOFF_BASE`` (0.5 s),
``AKAGI_LLM_BACKOFF_MAX`` (8 s), ``AKAGI_LLM_RETRY_AFTER_MAX`` (20 s: a longer Retry-After fails at once rather
than keeping staff waiting), ``AKAGI_LLM_OFFLINE_CHUNK_DELAY`` (0 s; e.g. 0.02 for demos of the offline mode).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from llm.base import ModelSpec

PROVIDERS = ("azure", "openai_compatible", "offline")
DEFAULT_AZURE_API_VERSION = "2024-10-21"

SETTING_NAMES = (
    "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_API_VERSION", "AZURE_OPENAI_DEPLOYMENT",
    "AZURE_OPENAI_MINI_DEPLOYMENT", "AZURE_OPENAI_LABEL", "AZURE_OPENAI_MINI_LABEL",
    "AZURE_OPENAI_PRICE_PER_1K_CHARS_YEN", "AZURE_OPENAI_MINI_PRICE_PER_1K_CHARS_YEN",
    "OPENAI_COMPAT_BASE_URL", "OPENAI_COMPAT_MODEL", "OPENAI_COMPAT_LABEL", "OPENAI_COMPAT_API_KEY",
    "OPENAI_COMPAT_CONTEXT_CHARS", "OPENAI_COMPAT_MAX_OUTPUT_CHARS", "OPENAI_COMPAT_PRICE_PER_1K_CHARS_YEN",
    "AKAGI_LLM_MODELS", "AKAGI_LLM_DEFAULT_MODEL",
    "AKAGI_LLM_CONNECT_TIMEOUT", "AKAGI_LLM_READ_TIMEOUT", "AKAGI_LLM_MAX_ATTEMPTS", "AKAGI_LLM_BACKOFF_BASE",
    "AKAGI_LLM_BACKOFF_MAX", "AKAGI_LLM_RETRY_AFTER_MAX", "AKAGI_LLM_OFFLINE_CHUNK_DELAY",
)  # everything read here; tests blank them all to start from a known state

OFFLINE_SPEC = ModelSpec(
    name="offline",
    label="オフラインモード（生成AI未設定）",
    provider="offline",
    deployment="offline",
    context_chars=100_000,
    max_output_chars=4000,
    price_per_1k_chars_yen=0.0,
)


def read(name: str, default: Any = "") -> Any:
    value = getattr(settings, name, None)
    if value is None or value == "":
        value = os.environ.get(name, "")
    return default if value == "" else value


def read_float(name: str, default: float) -> float:
    try:
        return float(read(name, default))
    except (TypeError, ValueError) as exc:
        raise ImproperlyConfigured(f"{name} must be a number, got {read(name)!r}") from exc


@dataclass(frozen=True)
class ProviderOptions:
    """Timeouts and retry policy of the OpenAI-based providers (seconds)."""

    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_attempts: int = 3
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    retry_after_max: float = 20.0


def provider_options() -> ProviderOptions:
    return ProviderOptions(
        connect_timeout=read_float("AKAGI_LLM_CONNECT_TIMEOUT", 10.0),
        read_timeout=read_float("AKAGI_LLM_READ_TIMEOUT", 60.0),
        max_attempts=max(1, int(read_float("AKAGI_LLM_MAX_ATTEMPTS", 3))),
        backoff_base=read_float("AKAGI_LLM_BACKOFF_BASE", 0.5),
        backoff_max=read_float("AKAGI_LLM_BACKOFF_MAX", 8.0),
        retry_after_max=read_float("AKAGI_LLM_RETRY_AFTER_MAX", 20.0),
    )


def offline_chunk_delay() -> float:
    return read_float("AKAGI_LLM_OFFLINE_CHUNK_DELAY", 0.0)


@dataclass(frozen=True)
class Connection:
    """Where and how to reach a provider. Hashable: the provider cache is keyed on it, so changed settings
    (a rotated key, a new endpoint) get a new client without a restart."""

    kind: str  # one of PROVIDERS
    base_url: str = ""  # Azure: the resource endpoint; compatible: the base URL, usually ending in /v1
    api_version: str = ""  # Azure only
    api_key: str = field(default="", repr=False)  # kept out of repr so it never reaches a log line


@dataclass(frozen=True)
class CatalogueEntry:
    spec: ModelSpec
    connection: Connection


def azure_connection() -> Connection | None:
    endpoint, key = read("AZURE_OPENAI_ENDPOINT"), read("AZURE_OPENAI_API_KEY")
    if not (endpoint and key):
        return None
    return Connection("azure", endpoint, read("AZURE_OPENAI_API_VERSION", DEFAULT_AZURE_API_VERSION), key)


def compatible_connection() -> Connection | None:
    base_url = read("OPENAI_COMPAT_BASE_URL")
    return Connection("openai_compatible", base_url, "", read("OPENAI_COMPAT_API_KEY")) if base_url else None


def entries_from_environment() -> list[CatalogueEntry]:
    entries = []
    if azure := azure_connection():
        entries.append(CatalogueEntry(ModelSpec(
            name="gpt-4o",
            label=read("AZURE_OPENAI_LABEL", "GPT-4o（Azure OpenAI）"),
            provider="azure",
            deployment=read("AZURE_OPENAI_DEPLOYMENT", "gpt-4o"),
            context_chars=100_000,  # GPT-4o: 128k tokens, ~1 token per Japanese character, with headroom
            max_output_chars=4000,
            price_per_1k_chars_yen=read_float("AZURE_OPENAI_PRICE_PER_1K_CHARS_YEN", 2.0),
        ), azure))
        if mini := read("AZURE_OPENAI_MINI_DEPLOYMENT"):
            entries.append(CatalogueEntry(ModelSpec(
                name="gpt-4o-mini",
                label=read("AZURE_OPENAI_MINI_LABEL", "GPT-4o mini（Azure OpenAI）"),
                provider="azure",
                deployment=mini,
                context_chars=100_000,
                max_output_chars=4000,
                price_per_1k_chars_yen=read_float("AZURE_OPENAI_MINI_PRICE_PER_1K_CHARS_YEN", 0.3),
            ), azure))
    if compatible := compatible_connection():
        model = read("OPENAI_COMPAT_MODEL")
        if not model:
            # Loud rather than silently falling back to offline mode: the operator clearly meant to use it.
            raise ImproperlyConfigured("OPENAI_COMPAT_BASE_URL is set but OPENAI_COMPAT_MODEL (the model id) is not.")
        entries.append(CatalogueEntry(ModelSpec(
            name=model,
            label=read("OPENAI_COMPAT_LABEL", f"{model}（OpenAI互換サーバー）"),
            provider="openai_compatible",
            deployment=model,
            context_chars=int(read_float("OPENAI_COMPAT_CONTEXT_CHARS", 16_000)),
            max_output_chars=int(read_float("OPENAI_COMPAT_MAX_OUTPUT_CHARS", 4000)),
            price_per_1k_chars_yen=read_float("OPENAI_COMPAT_PRICE_PER_1K_CHARS_YEN", 0.0),
        ), compatible))
    return entries


ENTRY_KEYS = {
    "name", "label", "provider", "deployment", "context_chars", "max_output_chars", "price_per_1k_chars_yen",
    "base_url", "endpoint", "api_version", "api_key_env",
}


def entry_from_dict(raw: dict[str, Any]) -> CatalogueEntry:
    if not isinstance(raw, dict):
        raise ImproperlyConfigured(f"AKAGI_LLM_MODELS entries must be objects, got {raw!r}")
    if "api_key" in raw:
        raise ImproperlyConfigured("AKAGI_LLM_MODELS must not contain api_key; name the variable in api_key_env.")
    if unknown := set(raw) - ENTRY_KEYS:
        raise ImproperlyConfigured(f"AKAGI_LLM_MODELS: unknown keys {sorted(unknown)} in {raw.get('name')!r}")
    name, provider = raw.get("name"), raw.get("provider")
    if not name or not isinstance(name, str):
        raise ImproperlyConfigured(f"AKAGI_LLM_MODELS: every entry needs a name, got {raw!r}")
    if provider not in PROVIDERS:
        raise ImproperlyConfigured(f"AKAGI_LLM_MODELS: provider of {name!r} must be one of {PROVIDERS}")
    spec = ModelSpec(
        name=name,
        label=str(raw.get("label") or name),
        provider=provider,
        deployment=str(raw.get("deployment") or name),
        context_chars=int(raw.get("context_chars", 100_000)),
        max_output_chars=int(raw.get("max_output_chars", 4000)),
        price_per_1k_chars_yen=float(raw.get("price_per_1k_chars_yen", 0.0)),
    )
    key_env = raw.get("api_key_env")
    url = raw.get("endpoint") or raw.get("base_url")
    if provider == "offline":
        connection = Connection("offline")
    elif not url:
        inherited = azure_connection() if provider == "azure" else compatible_connection()
        if inherited is None:
            raise ImproperlyConfigured(f"AKAGI_LLM_MODELS: {name!r} has no base_url, and the environment sets none.")
        connection = inherited
    else:
        connection = Connection(
            provider,
            url,
            str(raw.get("api_version") or read("AZURE_OPENAI_API_VERSION", DEFAULT_AZURE_API_VERSION))
            if provider == "azure" else "",
            read(key_env) if key_env else "",
        )
    return CatalogueEntry(spec, connection)


def catalogue_entries() -> list[CatalogueEntry]:
    """The configured models in catalogue order; never empty (falls back to the offline model)."""
    raw = read("AKAGI_LLM_MODELS", None)
    if raw is None:
        entries = entries_from_environment()
    else:
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise ImproperlyConfigured(f"AKAGI_LLM_MODELS is not valid JSON: {exc}") from exc
        if not isinstance(raw, list | tuple):
            raise ImproperlyConfigured("AKAGI_LLM_MODELS must be a list of model objects.")
        entries = [entry_from_dict(item) for item in raw]
        names = [entry.spec.name for entry in entries]
        if len(set(names)) != len(names):
            raise ImproperlyConfigured(f"AKAGI_LLM_MODELS has duplicate names: {names}")
    return entries or [CatalogueEntry(OFFLINE_SPEC, Connection("offline"))]
