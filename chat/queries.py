"""Reads that decide what a user may see and use in chat."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Q
from django.http import Http404

from chat.models import ChatSettings, Conversation
from llm.base import ModelSpec
from llm.catalogue import available_models, default_model_name


def get_conversation_for_user(user, conversation_id: int) -> Conversation:
    """Only the owner may open a conversation; anyone else gets the same 404 as for a missing one."""
    conversation = Conversation.objects.filter(pk=conversation_id, owner=user).first()
    if conversation is None:
        raise Http404("会話が見つかりません。")
    return conversation


def conversations_for_user(user, *, query: str = "", limit: int = 100) -> list[Conversation]:
    qs = Conversation.objects.filter(owner=user)
    query = query.strip()
    if query:
        qs = qs.filter(Q(title__icontains=query) | Q(messages__content__icontains=query)).distinct()
    return list(qs.order_by("-updated_at")[:limit])


def tenant_models() -> list[ModelSpec]:
    """The catalogue's models the prefecture allows this municipality (all when it set none)."""
    allowed = getattr(connection.tenant, "allowed_models", None) or []
    models = available_models()
    return [m for m in models if not allowed or m.name in allowed] or models[:1]


def user_models() -> list[ModelSpec]:
    """What staff may pick: the administrator's choice within what the municipality is allowed."""
    permitted = tenant_models()
    chosen = ChatSettings.load().user_models
    picked = [m for m in permitted if m.name in chosen] if chosen else permitted
    return picked or permitted[:1]


def default_model() -> ModelSpec:
    models = user_models()
    wanted = ChatSettings.load().default_model or default_model_name()
    return next((m for m in models if m.name == wanted), models[0])


def resolve_model(name: str | None) -> ModelSpec:
    if not name:
        return default_model()
    for model in user_models():
        if model.name == name:
            return model
    if name in {m.name for m in available_models()}:
        raise ValidationError("このモデルは利用が認められていません。管理者にご確認ください。")
    return default_model()
