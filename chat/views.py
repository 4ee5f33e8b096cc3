"""Chat pages and the streaming endpoint (server-sent events from an async view: no thread per stream)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseNotAllowed, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from chat import queries, services
from chat.pipeline import PromptRequest, run_prompt
from chat.rendering import render_markdown
from config.middleware import releases_database
from usage.queries import counters_for


def _page_context(request, conversation=None) -> dict:
    query = request.GET.get("q", "")
    try:
        models = queries.user_models(request.user)
        current = conversation.model_name if conversation else queries.default_model(request.user).name
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        models, current = [], ""
    return {
        "conversations": queries.conversations_for_user(request.user, query=query),
        "query": query,
        "conversation": conversation,
        "chat_messages": [
            {"m": m, "html": render_markdown(m.content) if m.role == "assistant" else ""}
            for m in (conversation.messages.all() if conversation else [])
        ],
        "models": models,
        "current_model": current,
        "counters": counters_for(request.tenant, request.user),
        "collections": _usable_collections(request.user),
    }


def _usable_collections(user):
    from rag.queries import readable_collections

    return [c for c in readable_collections(user) if c.documents.filter(state="ready").exists()]


@login_required
def chat_home(request):
    return render(request, "chat/chat.html", _page_context(request))


@login_required
def conversation_page(request, conversation_id: int):
    conversation = queries.get_conversation_for_user(request.user, conversation_id)
    return render(request, "chat/chat.html", _page_context(request, conversation))


@login_required
def counter(request):
    return render(request, "chat/_counter.html", {"counters": counters_for(request.tenant, request.user)})


@login_required
@require_POST
def rename(request, conversation_id: int):
    try:
        services.rename_conversation(user=request.user, conversation_id=conversation_id,
                                     title=request.POST.get("title", ""), request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("chat:conversation", conversation_id)


@login_required
@require_POST
def feedback(request, message_id: int):
    services.give_feedback(user=request.user, message_id=message_id, helpful=request.POST.get("helpful") == "1",
                           comment=request.POST.get("comment", ""))
    return JsonResponse({"ok": True, "message": "ご意見ありがとうございました。"})


@login_required
@require_POST
def delete(request, conversation_id: int):
    services.delete_conversation(user=request.user, conversation_id=conversation_id, request=request)
    messages.success(request, "会話を削除しました。")
    return redirect("chat:home")


def _sse(event: dict) -> str:
    return f"event: {event['event']}\ndata: {json.dumps(event['data'], ensure_ascii=False)}\n\n"


@releases_database
async def send(request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    user = await request.auser()
    if not user.is_authenticated:
        return JsonResponse({"error": "ログインの有効期限が切れました。再度ログインしてください。"}, status=401)
    conversation_id = request.POST.get("conversation") or None
    req = PromptRequest(
        tenant=request.tenant,
        user=user,
        text=request.POST.get("prompt", ""),
        conversation_id=int(conversation_id) if conversation_id and conversation_id.isdigit() else None,
        model_name=request.POST.get("model") or None,
        mask=request.POST.get("mask") == "1",
        regenerate=request.POST.get("regenerate") == "1",
        collection_ids=[int(c) for c in request.POST.getlist("collections") if c.isdigit()],
        request_meta={"ip": request.META.get("REMOTE_ADDR") or ""},
    )

    async def stream():
        try:
            async for event in run_prompt(req):
                yield _sse(event)
        except Http404 as exc:
            message = str(exc) if str(exc) and not str(exc).startswith("No ") else "会話が見つかりません。"
            yield _sse({"event": "error", "data": {"message": message}})
        except ValidationError as exc:
            yield _sse({"event": "error", "data": {"message": " ".join(exc.messages)}})

    response = StreamingHttpResponse(stream(), content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx must pass every token on at once
    return response
