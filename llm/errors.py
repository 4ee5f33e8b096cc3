"""Turning ``openai`` exceptions into ProviderError with a Japanese message that tells staff what to do.

Staff are not engineers: each message says what happened in plain words and the next step (wait and retry,
rephrase, or ask the administrator). Technical details go to ``ProviderError.detail`` for the server log only.
"""

from __future__ import annotations

import openai

from llm.base import ProviderError

RATE_LIMITED = "生成AIサービスが混み合っています。しばらく待ってから再度お試しください。"
AUTH = (
    "生成AIサービスへの接続設定に問題があるため、回答を作成できません。"
    "お手数ですが、システム管理者にお問い合わせください。"
)
TIMEOUT = (
    "生成AIサービスの応答がタイムアウトしました。しばらく待ってから再度お試しください。"
    "続く場合は、質問を短くするか、システム管理者にお問い合わせください。"
)
SERVER_ERROR = (
    "生成AIサービスで障害が発生しています。しばらく待ってから再度お試しください。"
    "続く場合は、システム管理者にお問い合わせください。"
)
CONNECTION = (
    "生成AIサービスに接続できませんでした。しばらく待ってから再度お試しください。"
    "続く場合は、システム管理者にお問い合わせください。"
)
INTERRUPTED = (
    "回答の作成中に生成AIサービスとの通信が途切れたため、回答が途中で終わっています。"
    "もう一度質問を送信してください。"
)
PROMPT_FILTERED = (
    "この質問は、生成AIサービスのコンテンツフィルター（不適切な内容を防ぐ仕組み）によってブロックされました。"
    "表現を変えて質問し直してください。"
)
ANSWER_FILTERED = (
    "回答が生成AIサービスのコンテンツフィルター（不適切な内容を防ぐ仕組み）によってブロックされたため、"
    "途中で止まりました。質問の表現を変えて、もう一度お試しください。"
)
CONTEXT_LENGTH = (
    "質問・会話の履歴・参照資料が長すぎるため、生成AIサービスが受け付けませんでした。"
    "新しい会話を始めるか、質問を短くしてください。"
)
BAD_REQUEST = (
    "生成AIサービスが要求を受け付けませんでした。質問を短くするなどして再度お試しください。"
    "続く場合は、システム管理者にお問い合わせください。"
)
NO_KEY = "生成AIサービスの接続設定（APIキー）がありません。システム管理者にお問い合わせください。"


def content_filter_error(*, partial_text: str = "", status: int | None = None, detail: str = "") -> ProviderError:
    return ProviderError(
        ANSWER_FILTERED if partial_text else PROMPT_FILTERED,
        code="content_filter", status=status, partial_text=partial_text, detail=detail or "content_filter",
    )


TRANSIENT = {"timeout", "connection", "server_error", "rate_limited"}


def is_transient_status(status: int) -> bool:
    # 408 and 409 are what OpenAI's own client retries besides 429 and 5xx: transient by definition.
    return status in (408, 409, 429) or status >= 500


def should_retry(exc: openai.OpenAIError) -> bool:
    """Whether to retry ``exc`` automatically (only ever before the first delta).

    Read timeouts are not retried: staff have already waited the whole read timeout, and a server too slow to
    send a first token is unlikely to be quicker at once. Connect timeouts, refused or reset connections,
    429 and 5xx are retried: they are typically over in seconds.
    """
    if isinstance(exc, openai.APITimeoutError):
        # The client wraps httpx's ConnectTimeout; matched by name so this works with both httpx and httpx2.
        cause = exc.__cause__
        return cause is not None and any(cls.__name__ == "ConnectTimeout" for cls in type(cause).__mro__)
    if isinstance(exc, openai.APIConnectionError):
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.code != "content_filter" and is_transient_status(exc.status_code)
    return False


def map_error(exc: openai.OpenAIError, *, partial_text: str = "") -> ProviderError:
    """The ProviderError for ``exc``; ``partial_text`` is the answer streamed before it, if any."""
    detail = f"{type(exc).__name__}: {exc}"

    def error(message: str, code: str, *, retryable: bool, status: int | None = None) -> ProviderError:
        if partial_text:
            # Part of the answer is on screen. Sending the question again would give a different answer, not the
            # rest of this one, so it is never retryable and staff are told the answer is cut short.
            retryable = False
            if code in TRANSIENT:
                message, code = INTERRUPTED, "interrupted"
        return ProviderError(
            message, retryable=retryable, status=status, code=code, partial_text=partial_text, detail=detail
        )

    if isinstance(exc, openai.APITimeoutError):
        return error(TIMEOUT, "timeout", retryable=True)
    if isinstance(exc, openai.APIConnectionError):
        return error(CONNECTION, "connection", retryable=True)
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        if exc.code == "content_filter":
            return content_filter_error(partial_text=partial_text, status=status, detail=detail)
        if status in (401, 403):
            return error(AUTH, "auth", retryable=False, status=status)
        if status == 404:  # a deployment or model id the server does not know: a configuration problem
            return error(AUTH, "config", retryable=False, status=status)
        if status == 429:
            return error(RATE_LIMITED, "rate_limited", retryable=True, status=status)
        if is_transient_status(status):
            return error(SERVER_ERROR, "server_error", retryable=True, status=status)
        if exc.code == "context_length_exceeded" or "maximum context length" in str(exc.message):
            return error(CONTEXT_LENGTH, "context_length", retryable=False, status=status)
        return error(BAD_REQUEST, "bad_request", retryable=False, status=status)
    if isinstance(exc, openai.APIError):
        # An error event inside a stream that had already started: no HTTP status of its own.
        if exc.code == "content_filter":
            return content_filter_error(partial_text=partial_text, detail=detail)
        return error(SERVER_ERROR, "server_error", retryable=True)
    return error(SERVER_ERROR, "server_error", retryable=False)
