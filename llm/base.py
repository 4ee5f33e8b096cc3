"""The provider-neutral vocabulary of the LLM layer: model specs, passages, stream events, errors, counting.

Everything the chat pipeline needs to talk about a model lives here, so the pipeline can depend on this module
alone and never on the ``openai`` package or on how a provider is configured.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class ModelSpec:
    """One entry of the model catalogue, as shown to staff and used for quota and billing."""

    name: str  # catalogue key, e.g. "gpt-4o"; what the UI submits and what usage records store
    label: str  # Japanese display label, e.g. "GPT-4o（Azure OpenAI 東日本）"
    provider: str  # "azure" | "openai_compatible" | "offline"
    deployment: str  # Azure deployment name, or the model id sent to an OpenAI-compatible endpoint
    context_chars: int  # approximate context length in characters (prompt + history + passages)
    max_output_chars: int  # cap on answer length, used to reserve quota before streaming starts
    price_per_1k_chars_yen: float  # set by the operator; 0 for the offline model and self-hosted servers


@dataclass(frozen=True)
class Passage:
    """A retrieved passage the model may cite as ``[number]`` (retrieval itself is built later)."""

    number: int
    title: str
    text: str
    url: str = ""


@dataclass
class StreamDelta:
    """A piece of the answer, to be appended to what has been shown so far."""

    text: str


@dataclass
class StreamDone:
    """The last event of a successful stream. Token counts are None when the server did not report usage."""

    prompt_tokens: int | None
    completion_tokens: int | None
    finish_reason: str | None  # "stop", "length" (hit the output cap); None if the server sent none


class ProviderError(Exception):
    """A failure the chat pipeline shows to staff.

    Attributes:
        user_message: Japanese text for staff saying what happened and what to do. Never contains technical
            details or secrets, so it can be shown and stored as-is.
        retryable: True when the failure is transient *and* no part of an answer was streamed, so offering
            "try again" (or retrying later) makes sense. False for configuration problems, content-filter
            blocks, bad requests, and every failure after the first delta: that partial answer is already on
            screen, and sending the request again would produce a different answer, not the rest of it.
        status: HTTP status from the provider, if there was one.
        code: a stable machine-readable reason for logs and metrics: "rate_limited", "auth", "config",
            "timeout", "connection", "server_error", "interrupted", "content_filter", "context_length",
            "bad_request", "unknown_model".
        partial_text: the answer text yielded before the failure ("" if none); the caller has it too.
        detail: technical description for the server log (English, from the provider; no prompt text).
    """

    def __init__(
        self,
        user_message: str,
        *,
        retryable: bool = False,
        status: int | None = None,
        code: str = "error",
        partial_text: str = "",
        detail: str = "",
    ) -> None:
        super().__init__(detail or user_message)
        self.user_message = user_message
        self.retryable = retryable
        self.status = status
        self.code = code
        self.partial_text = partial_text
        self.detail = detail


class UnknownModel(ProviderError):
    """The requested model is not in the catalogue (removed by the operator, or a stale form)."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"選択されたAIモデル「{name}」は現在利用できません。画面を再読み込みして、表示されているモデルから選び直してください。",
            code="unknown_model",
            detail=f"unknown model {name!r}",
        )
        self.name = name


@runtime_checkable
class ChatProvider(Protocol):
    """A way to stream a chat answer from some model. Implementations are safe to share between requests."""

    offline: bool  # True when no generative model is involved (the UI says so and no usage is billed)

    def stream_chat(
        self,
        *,
        model: ModelSpec,
        messages: list[dict[str, str]],
        passages: Sequence[Passage] = (),
        max_output_tokens: int | None = None,
    ) -> AsyncIterator[StreamDelta | StreamDone]:
        """Yield StreamDelta events, then exactly one StreamDone; or raise ProviderError.

        ``messages`` are OpenAI-style ``{"role": ..., "content": ...}`` dicts, oldest first, the last one being
        the user's question. When ``passages`` are given the provider puts them into the system message and
        asks the model to cite them as ``[n]``.
        """
        ...


def count_chars(text: str) -> int:
    """The billing unit: the number of Unicode code points of the NFC-normalised text.

    NFC first, so that text which spells 「が」 as か + a combining sound mark (common in text pasted from PDFs
    or macOS file names) costs the same as text typed on Windows. Whitespace and newlines count; an emoji
    built from several code points counts as several. Use it for both quota reservation and settlement.
    """
    return len(unicodedata.normalize("NFC", text))


def estimate_tokens(text: str) -> int:
    """A rough token count for limits and for usage when a server reports none.

    GPT-4o's tokenizer spends about one token per Japanese character and one per ~4 ASCII characters. We don't
    use tiktoken because it downloads its tables at first use, which fails on closed municipal networks.
    """
    ascii_chars = sum(1 for char in text if char.isascii())
    return (len(text) - ascii_chars) + math.ceil(ascii_chars / 4)
