"""Running LLM streams from synchronous tests, without pytest-asyncio.

Each call runs in its own ``asyncio.run`` and closes the providers' connections before that loop ends, so no
socket outlives its loop (the next test's loop gets fresh connections).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from llm import ChatProvider, ModelSpec, Passage, ProviderError, StreamDelta, StreamDone, close_clients

T = TypeVar("T")


@dataclass
class StreamResult:
    deltas: list[str] = field(default_factory=list)
    done: StreamDone | None = None
    error: ProviderError | None = None
    elapsed: float = 0.0  # seconds from the call to the end of the stream or the error

    @property
    def text(self) -> str:
        return "".join(self.deltas)


def run(awaitable: Awaitable[T], *providers: Any) -> T:
    """``asyncio.run`` that closes the catalogue's and the given providers' connections before the loop ends."""

    async def main() -> T:
        try:
            return await awaitable
        finally:
            await close_clients()
            for provider in providers:
                if hasattr(provider, "aclose"):
                    await provider.aclose()

    return asyncio.run(main())


async def consume(
    provider: ChatProvider,
    *,
    model: ModelSpec,
    messages: list[dict[str, str]],
    passages: Sequence[Passage] = (),
    max_output_tokens: int | None = None,
) -> StreamResult:
    """Read a whole stream; a ProviderError is captured in the result rather than raised."""
    result = StreamResult()
    started = time.monotonic()
    try:
        async for event in provider.stream_chat(
            model=model, messages=messages, passages=passages, max_output_tokens=max_output_tokens
        ):
            if isinstance(event, StreamDelta):
                result.deltas.append(event.text)
            else:
                assert isinstance(event, StreamDone)
                assert result.done is None, "StreamDone must come once, last"
                result.done = event
    except ProviderError as error:
        result.error = error
    result.elapsed = time.monotonic() - started
    return result


def collect(provider: ChatProvider, **kwargs: Any) -> StreamResult:
    """``consume`` from a synchronous test."""
    return run(consume(provider, **kwargs), provider)
