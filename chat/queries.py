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


def user_models(user=None) -> list[ModelSpec]:
    """What this user may pick: the administrator's choice within the plan, narrowed by the user's groups."""
    from accounts.queries import allowed_model_names

    permitted = tenant_models()
    chosen = ChatSettings.load().user_models
    picked = [m for m in permitted if m.name in chosen] if chosen else permitted
    picked = picked or permitted[:1]
    if user is not None:
        by_group = allowed_model_names(user)
        if by_group is not None:
            narrowed = [m for m in picked if m.name in by_group]
            if not narrowed:
                raise ValidationError(
                    "所属グループに利用できるモデルが設定されていません。管理者にお問い合わせください。"
                )
            picked = narrowed
    return picked


def default_model(user=None) -> ModelSpec:
    models = user_models(user)
    wanted = ChatSettings.load().default_model or default_model_name()
    return next((m for m in models if m.name == wanted), models[0])


def resolve_model(name: str | None, user=None) -> ModelSpec:
    if not name:
        return default_model(user)
    for model in user_models(user):
        if model.name == name:
            return model
    if name in {m.name for m in available_models()}:
        raise ValidationError("このモデルは利用が認められていません。管理者にご確認ください。")
    return default_model(user)
