"""Azure OpenAI and OpenAI-compatible servers, both through the official ``openai`` client, streaming.

Retries are ours, not the client's (``max_retries=0``): the client would retry a whole request after a failure
at any point, whereas we may only retry while nothing has been shown to staff. Once the first delta is out, a
failure raises ProviderError with the partial answer; restarting would silently replace text already on screen.

Nothing here logs prompt or answer text: municipal staff paste personal information into their questions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import weakref
from collections.abc import AsyncIterator, Sequence
from typing import Any

import openai

from llm.base import ModelSpec, Passage, ProviderError, StreamDelta, StreamDone
from llm.config import DEFAULT_AZURE_API_VERSION, ProviderOptions
from llm.errors import NO_KEY, content_filter_error, map_error, should_retry
from llm.prompts import with_passages
from llm.retry import retry_delay

logger = logging.getLogger(__name__)


class OpenAIStreamingProvider:
    """What both providers share: the per-event-loop client, the retry loop and the chunk handling."""

    offline = False
    name = "openai"  # for log lines

    def __init__(self, options: ProviderOptions | None = None) -> None:
        self.options = options or ProviderOptions()
        self._clients: dict[int, tuple[weakref.ref[asyncio.AbstractEventLoop], openai.AsyncOpenAI]] = {}
        self._lock = threading.Lock()
        # Cleared for good when a server rejects ``stream_options``; usage is then simply not reported.
        self._send_stream_options = True

    def _make_client(self) -> openai.AsyncOpenAI:
        raise NotImplementedError

    def _check_configured(self) -> None:
        """Raise ProviderError before any network traffic when the configuration cannot work."""

    def _timeout(self) -> openai.Timeout:
        # ``read`` bounds the wait for the response headers and then for each next chunk, not the whole answer.
        return openai.Timeout(self.options.read_timeout, connect=self.options.connect_timeout)

    def _http_client(self) -> Any:
        # Our own pool rather than the SDK's default one: the SDK's closes itself on garbage collection by
        # scheduling aclose() on whatever loop is running then, which fails noisily when it belonged to an
        # earlier, closed loop (see client()). Ours is closed by aclose(), or its sockets by the collector.
        return openai.DefaultAsyncHttpxClient(timeout=self._timeout())

    def client(self) -> openai.AsyncOpenAI:
        """The client for the running event loop.

        An httpx connection pool belongs to the loop that opened its connections; using it from another loop
        fails ("Event loop is closed"). Tests run each case in a fresh ``asyncio.run`` and asgiref may run loops
        in threads, so we keep one client per live loop. Under uvicorn that is one client for the process.
        """
        loop = asyncio.get_running_loop()
        with self._lock:
            for key, (ref, _client) in list(self._clients.items()):
                alive = ref()
                if alive is None or alive.is_closed():
                    # Not aclose()d: that needs its own, finished loop. The sockets close when it is collected.
                    del self._clients[key]
            entry = self._clients.get(id(loop))
            if entry is None or entry[0]() is not loop:
                entry = (weakref.ref(loop), self._make_client())
                self._clients[id(loop)] = entry
            return entry[1]

    async def aclose(self) -> None:
        """Close the running loop's client, e.g. before that loop ends; the next request opens a new one."""
        loop = asyncio.get_running_loop()
        with self._lock:
            entry = self._clients.pop(id(loop), None)
        if entry is not None and entry[0]() is loop:
            await entry[1].close()

    async def stream_chat(
        self,
        *,
        model: ModelSpec,
        messages: list[dict[str, str]],
        passages: Sequence[Passage] = (),
        max_output_tokens: int | None = None,
    ) -> AsyncIterator[StreamDelta | StreamDone]:
        self._check_configured()
        request: dict[str, Any] = {
            "model": model.deployment,
            "messages": with_passages(messages, passages),
            # ``max_tokens`` rather than ``max_completion_tokens``: every compatible server knows it. Without a
            # caller's limit, the character cap keeps the answer within the quota reserved for it (Japanese text
            # is about one token per character).
            "max_tokens": max_output_tokens or model.max_output_chars,
            "stream": True,
        }
        attempt = 0
        while True:
            attempt += 1
            parts: list[str] = []
            ask_usage = self._send_stream_options
            try:
                async with contextlib.aclosing(self._stream_once(request, parts, ask_usage=ask_usage)) as events:
                    async for event in events:
                        yield event
                return
            except openai.OpenAIError as exc:
                partial = "".join(parts)
                if not partial and ask_usage and _rejects_stream_options(exc):
                    logger.info("%s server rejects stream_options; continuing without usage reports", self.name)
                    self._send_stream_options = False
                    attempt -= 1  # a compatibility fallback, not a failure: it does not use up an attempt
                    continue
                error = map_error(exc, partial_text=partial)
                delay = None
                if not partial and attempt < self.options.max_attempts and should_retry(exc):
                    delay = retry_delay(exc, attempt, self.options)
                if delay is None:
                    logger.warning(
                        "%s request for model %s failed: code=%s status=%s attempt=%d partial_chars=%d (%s)",
                        self.name, model.name, error.code, error.status, attempt, len(partial), error.detail,
                    )
                    raise error from exc
                logger.warning(
                    "%s request for model %s failed: code=%s status=%s; retrying in %.2fs (attempt %d of %d)",
                    self.name, model.name, error.code, error.status, delay, attempt, self.options.max_attempts,
                )
                await asyncio.sleep(delay)

    async def _stream_once(
        self, request: dict[str, Any], parts: list[str], *, ask_usage: bool
    ) -> AsyncIterator[StreamDelta | StreamDone]:
        """One HTTP request. Appends each delta's text to ``parts`` so the caller knows what was shown."""
        kwargs = dict(request)
        if ask_usage:
            kwargs["stream_options"] = {"include_usage": True}
        stream = await self.client().chat.completions.create(**kwargs)
        usage = None
        finish_reason = None
        try:
            async for chunk in stream:
                if chunk.usage is not None:
                    usage = chunk.usage  # the last chunk (with include_usage) has no choices, only usage
                for choice in chunk.choices:  # Azure also sends a first chunk without choices (filter results)
                    if choice.index != 0:
                        continue
                    if choice.delta is not None and choice.delta.content:
                        parts.append(choice.delta.content)
                        yield StreamDelta(choice.delta.content)
                    if choice.finish_reason:
                        finish_reason = choice.finish_reason
        finally:
            # Closing (rather than draining) also tells the server to stop generating when staff navigate away.
            await stream.close()
        if finish_reason == "content_filter":
            raise content_filter_error(partial_text="".join(parts), detail="finish_reason=content_filter")
        if finish_reason is None:
            # Not an error: some compatible servers omit it. But a cut stream looks the same, so leave a trace.
            logger.info("%s stream for %s ended without finish_reason", self.name, request["model"])
        yield StreamDone(
            prompt_tokens=getattr(usage, "prompt_tokens", None),
            completion_tokens=getattr(usage, "completion_tokens", None),
            finish_reason=finish_reason,
        )


def _rejects_stream_options(exc: openai.OpenAIError) -> bool:
    return isinstance(exc, openai.BadRequestError) and "stream_options" in str(exc)


class AzureOpenAIProvider(OpenAIStreamingProvider):
    """Azure OpenAI; ``model.deployment`` is the deployment name.

    Assumes a resource in Japan East or Japan West with a GPT-4o (or newer) deployment, so that prompts and
    answers are processed in Japan. One client serves every deployment of the resource.
    """

    name = "azure"

    def __init__(
        self,
        *,
        endpoint: str,
        api_key: str,
        api_version: str = DEFAULT_AZURE_API_VERSION,
        options: ProviderOptions | None = None,
    ) -> None:
        super().__init__(options)
        self.endpoint = endpoint
        self.api_key = api_key
        self.api_version = api_version

    def _check_configured(self) -> None:
        if not self.api_key:
            raise ProviderError(NO_KEY, code="config", detail="Azure OpenAI model without an API key")

    def _make_client(self) -> openai.AsyncOpenAI:
        return openai.AsyncAzureOpenAI(
            azure_endpoint=self.endpoint,
            api_key=self.api_key,
            api_version=self.api_version,
            timeout=self._timeout(),
            max_retries=0,
            http_client=self._http_client(),
        )


class OpenAICompatibleProvider(OpenAIStreamingProvider):
    """A server speaking the OpenAI chat API: vLLM, Ollama, LiteLLM, llama.cpp server.

    ``base_url`` usually ends in ``/v1``; ``model.deployment`` is the model id the server expects.
    """

    name = "openai_compatible"

    def __init__(self, *, base_url: str, api_key: str | None = None, options: ProviderOptions | None = None) -> None:
        super().__init__(options)
        self.base_url = base_url
        self.api_key = api_key or ""

    def _make_client(self) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(
            base_url=self.base_url,
            # The client insists on a key; servers without authentication ignore the bearer token.
            api_key=self.api_key or "no-key",
            timeout=self._timeout(),
            max_retries=0,
            http_client=self._http_client(),
        )
