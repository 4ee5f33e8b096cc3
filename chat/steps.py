"""The synchronous database steps of the prompt pipeline: before the model is called, and after.

``prepare`` screens, reserves and persists the user's message; ``finish`` settles, audits and persists the
answer. Both run in the tenant's schema (``chat.pipeline`` switches to it) and each is one transaction.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import Http404
from django.urls import reverse

from audit.services import record
from chat.models import Conversation, Message
from chat.queries import get_conversation_for_user, resolve_model
from guard.screening import Screening, screen
from guard.services import banned_words, current_policy
from llm.base import ModelSpec, Passage, count_chars
from llm.catalogue import get_provider
from usage import quota
from usage.models import UsageRecord
from usage.queries import counters_for

MAX_HISTORY_MESSAGES = 20
logger = logging.getLogger(__name__)


@dataclass
class Prepared:
    outcome: dict[str, Any] | None = None  # set when the prompt ends here (blocked, refused, invalid)
    conversation_id: int | None = None
    conversation_url: str = ""
    model: ModelSpec | None = None
    offline: bool = False
    messages: list[dict[str, str]] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    sources: list[dict] = field(default_factory=list)  # what each [n] points to
    collection_ids: list[int] = field(default_factory=list)
    reservation: quota.Reservation | None = None
    sent_text: str = ""
    masked: bool = False
    findings_summary: list[dict] = field(default_factory=list)
    findings_for_display: list[dict] = field(default_factory=list)
    max_output_tokens: int | None = None
    counters: dict[str, Any] = field(default_factory=dict)
    user_id: int = 0
    user_label: str = ""
    tenant_id: int = 0
    request_meta: dict[str, str] = field(default_factory=dict)


def _end(name: str, **data: Any) -> Prepared:
    return Prepared(outcome={"event": name, "data": data})


def _validate(text: str) -> str | None:
    if not text.strip():
        return "依頼内容が空です。質問や依頼を入力してください。"
    limit = settings.AKAGI_MAX_PROMPT_CHARS
    if count_chars(text) > limit:
        return (
            f"入力が長すぎます（{count_chars(text):,}文字）。1回の依頼は{limit:,}文字までです。"
            "文書を分けて依頼するか、ナレッジに登録してご利用ください。"
        )
    return None


def _history(conversation: Conversation, budget_chars: int) -> list[dict[str, str]]:
    """The latest turns that fit the model's context, oldest first (failed answers are left out)."""
    recent = list(
        conversation.messages.exclude(status__in=[Message.Status.FAILED, Message.Status.BLOCKED])
        .order_by("-id")[:MAX_HISTORY_MESSAGES]
    )
    picked, used = [], 0
    for message in recent:
        used += len(message.content)
        if used > budget_chars:
            break
        picked.append({"role": message.role, "content": message.content})
    return list(reversed(picked))


def prepare(req) -> Prepared:
    user = req.user
    text = req.text or ""
    conversation = None
    if req.conversation_id:
        conversation = get_conversation_for_user(user, req.conversation_id)
    if req.regenerate:
        if conversation is None:
            return _end("error", message="再生成する会話が見つかりません。")
        last_user = conversation.messages.filter(role=Message.Role.USER).order_by("-id").first()
        if last_user is None:
            return _end("error", message="再生成する依頼がありません。")
        text = last_user.content
    problem = _validate(text)
    if problem:
        return _end("error", message=problem)

    model = resolve_model(req.model_name or (conversation.model_name if conversation else None), user)
    screening: Screening = screen(text, policy=current_policy(), banned_words=banned_words())
    label = str(user)
    if screening.decision == "block" or (screening.decision == "confirm" and not req.mask):
        with transaction.atomic():
            UsageRecord.objects.create(
                month=quota.current_month(), user=user, user_label=label, model_name=model.name,
                status=UsageRecord.Status.BLOCKED, conversation_id=conversation.pk if conversation else None,
            )
            record(
                action="prompt.blocked", actor=user, target=f"conversation:{conversation.pk if conversation else '-'}",
                # The prompt is kept with its personal information masked: the log must not collect it either.
                detail={"model": model.name, "prompt": screening.masked_text(), "findings": screening.summary(),
                        "decision": screening.decision},
                ip_address=req.request_meta.get("ip") or None,
            )
        can_mask = screening.decision == "confirm"
        return _end("screened", decision=screening.decision, can_mask=can_mask,
                    findings=screening.for_display(), text=text, masked_text=screening.masked_text())

    masked = screening.decision in {"mask", "confirm"}
    sent_text = screening.masked_text() if masked else text
    prompt_chars = count_chars(sent_text)
    # Retrieval comes before the reservation: a knowledge base that vanished or an embedding service that is
    # down ends the prompt here, with nothing reserved and nothing half-saved.
    try:
        passages, sources = _retrieve(user, sent_text, req.collection_ids)
    except Http404:
        return _end("error", message="選んだナレッジが見つからないか、利用する権限がありません。"
                                     "画面を再読み込みしてください。")
    except Exception:
        logger.exception("knowledge retrieval failed")
        return _end("error", message="ナレッジの検索に失敗しました。しばらく待ってから再度お試しいただくか、"
                                     "ナレッジを選ばずに送信してください。")
    try:
        reservation = quota.reserve(
            tenant_id=req.tenant.pk, user_id=user.pk, prompt_chars=prompt_chars,
            max_answer_chars=model.max_output_chars, price_per_1k_chars_yen=model.price_per_1k_chars_yen,
        )
    except quota.QuotaExceeded as exc:
        with transaction.atomic():
            UsageRecord.objects.create(
                month=quota.current_month(), user=user, user_label=label, model_name=model.name,
                status=UsageRecord.Status.REFUSED, conversation_id=conversation.pk if conversation else None,
            )
            record(action="prompt.refused", actor=user, target=exc.scope,
                   detail={"model": model.name, "cap": exc.cap, "prompt_chars": prompt_chars},
                   ip_address=req.request_meta.get("ip") or None)
        return _end("refused", message=exc.user_message, counters=counters_for(req.tenant, user))

    try:
        with transaction.atomic():
            if conversation is None:
                conversation = Conversation.objects.create(
                    owner=user, title=_title(sent_text), model_name=model.name
                )
            elif conversation.model_name != model.name:
                conversation.model_name = model.name
                conversation.save(update_fields=["model_name", "updated_at"])
            if req.regenerate:
                # The answer being replaced stays in the audit trail; the conversation shows the new one.
                last_user = conversation.messages.filter(role=Message.Role.USER).order_by("-id").first()
                conversation.messages.filter(id__gt=last_user.id).delete()
            history = _history(conversation, model.context_chars - prompt_chars - model.max_output_chars)
            if not req.regenerate:
                Message.objects.create(conversation=conversation, role=Message.Role.USER, content=sent_text,
                                       chars=prompt_chars, model_name=model.name)
    except Exception:
        quota.release(reservation)
        raise
    messages = [*history, {"role": "user", "content": sent_text}] if not req.regenerate else history
    return Prepared(
        conversation_id=conversation.pk,
        conversation_url=reverse("chat:conversation", args=[conversation.pk]),
        model=model,
        offline=get_provider(model).offline,
        messages=messages,
        passages=passages,
        sources=sources,
        collection_ids=[s for s in dict.fromkeys(int(c) for c in req.collection_ids)],
        reservation=reservation,
        sent_text=sent_text,
        masked=masked,
        findings_summary=screening.summary(),
        findings_for_display=screening.for_display(),
        max_output_tokens=None,
        counters=counters_for(req.tenant, user),
        user_id=user.pk,
        user_label=label,
        tenant_id=req.tenant.pk,
        request_meta=req.request_meta,
    )


def _retrieve(user, question: str, collection_ids: list[int]) -> tuple[list[Passage], list[dict]]:
    """Passages from the knowledge bases the user chose and may read; the access filter is in the SQL."""
    if not collection_ids:
        return [], []
    from rag.queries import get_collection_for_user
    from rag.retrieval import search

    permitted = [get_collection_for_user(user, int(cid)).pk for cid in dict.fromkeys(collection_ids)]
    hits = search(user, question, collection_ids=permitted, k=settings.AKAGI_RAG_PASSAGES)
    passages, sources = [], []
    for number, hit in enumerate(hits, start=1):
        passages.append(Passage(number=number, title=hit.document_title, text=hit.text,
                                url=reverse("rag:passage", args=[hit.chunk_id])))
        position = " ".join(part for part in (
            f"{hit.page}ページ" if getattr(hit, "page", None) else "",
            f"スライド{hit.slide}" if getattr(hit, "slide", None) else "",
            f"{hit.sheet} {hit.cells}".strip() if getattr(hit, "sheet", None) else "",
        ) if part)
        sources.append({"number": number, "chunk_id": hit.chunk_id, "document_id": hit.document_id,
                        "collection_id": hit.collection_id, "title": hit.document_title, "position": position,
                        "url": reverse("rag:passage", args=[hit.chunk_id]), "excerpt": hit.text[:300]})
    return passages, sources


def cited_sources(answer: str, sources: list[dict]) -> list[dict]:
    """Only the sources the answer actually cites as [n] are shown."""
    import re

    used = {int(n) for n in re.findall(r"\[(\d{1,2})\]", answer)}
    return [source for source in sources if source["number"] in used]


def _title(text: str) -> str:
    first_line = text.strip().splitlines()[0] if text.strip() else "新しい会話"
    return first_line[:40] + ("…" if len(first_line) > 40 else "")


def finish(prep: Prepared, answer: str, status: str, note: str, tokens, started: float,
           first_token_at: float | None, cancelled: bool = False) -> dict[str, Any]:
    from accounts.models import User

    model = prep.model
    answer_chars = count_chars(answer)
    # Nothing came back: nothing was used. Otherwise the prompt and what was answered count. The offline mode's
    # canned guidance involves no model, so it costs the municipality nothing.
    used = prep.reservation.prompt_chars + answer_chars if answer_chars and not prep.offline else 0
    quota.settle(prep.reservation, used_chars=used)
    now = time.monotonic()
    cost = quota.cost_of(used, model.price_per_1k_chars_yen)
    record_status = {
        "complete": UsageRecord.Status.MASKED if prep.masked else UsageRecord.Status.SENT,
        "partial": UsageRecord.Status.CANCELLED if cancelled else UsageRecord.Status.SENT,
        "failed": UsageRecord.Status.CANCELLED if cancelled else UsageRecord.Status.FAILED,
    }[status]
    if status == "partial" and not cancelled and prep.masked:
        record_status = UsageRecord.Status.MASKED
    user = User.objects.filter(pk=prep.user_id).first()
    with transaction.atomic():
        message = Message.objects.create(
            conversation_id=prep.conversation_id, role=Message.Role.ASSISTANT, content=answer,
            status={"complete": Message.Status.COMPLETE, "partial": Message.Status.PARTIAL,
                    "failed": Message.Status.FAILED}[status],
            status_note=note[:300], model_name=model.name, chars=answer_chars, offline=prep.offline,
            citations=cited_sources(answer, prep.sources), collection_ids=prep.collection_ids,
        )
        Conversation.objects.filter(pk=prep.conversation_id).update(updated_at=message.created_at)
        UsageRecord.objects.create(
            month=prep.reservation.month, user=user, user_label=prep.user_label,
            conversation_id=prep.conversation_id, model_name=model.name, status=record_status,
            prompt_chars=prep.reservation.prompt_chars if used else 0, answer_chars=answer_chars,
            prompt_tokens=tokens[0], completion_tokens=tokens[1], cost_yen=cost,
            first_token_ms=int((first_token_at - started) * 1000) if first_token_at else None,
            latency_ms=int((now - started) * 1000),
        )
        record(
            action="prompt.masked" if prep.masked else "prompt.sent",
            actor=user, actor_label=prep.user_label, target=f"conversation:{prep.conversation_id}",
            detail={
                "model": model.name, "status": status, "note": note, "prompt": prep.sent_text, "answer": answer,
                "prompt_chars": prep.reservation.prompt_chars, "answer_chars": answer_chars,
                "prompt_tokens": tokens[0], "completion_tokens": tokens[1], "findings": prep.findings_summary,
                "latency_ms": int((now - started) * 1000), "cancelled": cancelled, "offline": prep.offline,
                "sources": [{"number": s["number"], "document_id": s["document_id"], "chunk_id": s["chunk_id"]}
                            for s in prep.sources],
            },
            ip_address=prep.request_meta.get("ip") or None,
        )
    return {"message_id": message.pk, "counters": counters_for_ids(prep.tenant_id, user), "chars": used,
            "citations": message.citations}


def counters_for_ids(tenant_id: int, user) -> dict[str, Any]:
    from tenants.models import Tenant

    return counters_for(Tenant.objects.get(pk=tenant_id), user)
