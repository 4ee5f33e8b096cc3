"""The one path every prompt takes (ARCHITECTURE.md):

screen (guard) -> reserve quota (usage) -> retrieve permitted passages (rag) -> stream from provider (llm)
   -> settle quota with the real count (usage) -> audit record (audit) -> persist message (chat)

``run_prompt`` is an async generator of events for the SSE view. Database work happens in short synchronous
steps (``sync_to_async``) and the connection is closed before streaming, so a waiting stream holds neither a
thread nor a database connection. Any failure after the reservation settles it to what was really used.
Nothing else in the code base calls a chat provider.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection

from chat import steps
from chat.rendering import render_markdown
from llm.base import ProviderError, StreamDelta, StreamDone, count_chars
from llm.catalogue import get_provider

RENDER_EVERY_SECONDS = 0.08  # re-render the Markdown at most this often while the answer streams


@dataclass
class PromptRequest:
    tenant: Any
    user: Any
    text: str
    conversation_id: int | None = None
    model_name: str | None = None
    mask: bool = False  # the user chose 「マスクして送信」 after seeing the findings
    regenerate: bool = False
    collection_ids: list[int] = field(default_factory=list)
    request_meta: dict[str, str] = field(default_factory=dict)


def _event(name: str, **data: Any) -> dict[str, Any]:
    return {"event": name, "data": data}


def _release_connection() -> None:
    # Inside a test's transaction the connection must stay; in a real request the stream must not hold it.
    if not connection.in_atomic_block:
        connection.close()


def _in_tenant(tenant, fn, /, *args, **kwargs):
    connection.set_tenant(tenant)
    try:
        return fn(*args, **kwargs)
    finally:
        _release_connection()


async def run_prompt(req: PromptRequest) -> AsyncIterator[dict[str, Any]]:
    started = time.monotonic()
    prep = await sync_to_async(_in_tenant)(req.tenant, steps.prepare, req)
    if prep.outcome is not None:
        yield prep.outcome
        return

    yield _event(
        "start",
        conversation_id=prep.conversation_id,
        conversation_url=prep.conversation_url,
        model=prep.model.name,
        model_label=prep.model.label,
        offline=prep.offline,
        sources=len(prep.passages),
        sent_text=prep.sent_text if prep.masked else None,
        findings=prep.findings_for_display if prep.masked else [],
        counters=prep.counters,
    )

    answer: list[str] = []
    answer_chars = 0
    status, note = "complete", ""
    usage_tokens: tuple[int | None, int | None] = (None, None)
    first_token_at: float | None = None
    last_render = 0.0
    limit = prep.reservation.answer_limit
    try:
        provider = get_provider(prep.model)
        stream = provider.stream_chat(
            model=prep.model, messages=prep.messages, passages=prep.passages,
            max_output_tokens=prep.max_output_tokens,
        )
        async for item in stream:
            if isinstance(item, StreamDone):
                usage_tokens = (item.prompt_tokens, item.completion_tokens)
                if item.finish_reason == "content_filter":
                    status, note = "partial", "生成AIサービスの安全フィルターにより回答が打ち切られました。"
                continue
            if not isinstance(item, StreamDelta) or not item.text:
                continue
            text = item.text
            room = limit - answer_chars
            if count_chars(text) > room:
                # The reservation is the most this answer may use: at the month's cap the stream stops here.
                text = text[: max(room, 0)]
                status, note = "partial", "利用上限に達したため、回答をここで打ち切りました。"
            if first_token_at is None:
                first_token_at = time.monotonic()
            answer.append(text)
            answer_chars += count_chars(text)
            yield _event("delta", text=text)
            now = time.monotonic()
            if now - last_render >= RENDER_EVERY_SECONDS:
                last_render = now
                yield _event("html", html=render_markdown("".join(answer)))
            if status == "partial":
                await stream.aclose()
                break
    except ProviderError as exc:
        status = "partial" if answer else "failed"
        note = exc.user_message
    except (asyncio.CancelledError, GeneratorExit):
        status, note = ("partial" if answer else "failed"), "利用者が回答の生成を停止しました。"
        await asyncio.shield(sync_to_async(_in_tenant)(
            req.tenant, steps.finish, prep, "".join(answer), status, note, usage_tokens,
            started, first_token_at, cancelled=True,
        ))
        raise
    except Exception:
        status = "partial" if answer else "failed"
        note = "回答の生成中に予期しないエラーが発生しました。時間をおいて再度お試しください。"
        if settings.DEBUG:
            raise
    result = await sync_to_async(_in_tenant)(
        req.tenant, steps.finish, prep, "".join(answer), status, note, usage_tokens, started, first_token_at,
    )
    yield _event("html", html=render_markdown("".join(answer)))
    yield _event("done", status=status, note=note, message_id=result["message_id"], counters=result["counters"],
                 chars=result["chars"], citations=result["citations"])
