"""Changes a user makes to their own conversations."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from audit.services import record
from chat.queries import get_conversation_for_user


def rename_conversation(*, user, conversation_id: int, title: str, request=None) -> None:
    title = (title or "").strip()
    if not title:
        raise ValidationError("タイトルを入力してください。")
    if len(title) > 100:
        raise ValidationError("タイトルは100文字以内にしてください。")
    conversation = get_conversation_for_user(user, conversation_id)
    conversation.title = title
    conversation.save(update_fields=["title", "updated_at"])


def delete_conversation(*, user, conversation_id: int, request=None) -> None:
    """Deletes the conversation for its owner; every prompt and answer stays in the audit trail."""
    conversation = get_conversation_for_user(user, conversation_id)
    with transaction.atomic():
        record(action="conversation.delete", actor=user, target=f"conversation:{conversation.pk}",
               detail={"title": conversation.title}, request=request)
        conversation.delete()


def set_model_settings(*, default_model: str, user_models: list[str], actor, request=None) -> None:
    """The administrator's choice of default model and the models staff may pick (within the plan)."""
    from chat.models import ChatSettings
    from chat.queries import tenant_models

    permitted = {m.name for m in tenant_models()}
    chosen = [name for name in user_models if name in permitted]
    if not chosen:
        raise ValidationError("利用者が選べるモデルを1つ以上選んでください。")
    if default_model not in chosen:
        raise ValidationError("既定のモデルは、利用者が選べるモデルの中から選んでください。")
    with transaction.atomic():
        settings_row = ChatSettings.load()
        before = {"default_model": settings_row.default_model, "user_models": settings_row.user_models}
        settings_row.default_model = default_model
        settings_row.user_models = chosen
        settings_row.save()
        record(action="settings.models", actor=actor, target="chat_settings",
               detail={"before": before, "after": {"default_model": default_model, "user_models": chosen}},
               request=request)


def give_feedback(*, user, message_id: int, helpful: bool, comment: str = "") -> None:
    """👍/👎 on an answer, by the conversation's owner, kept per knowledge base the answer was built from."""
    from chat.models import Message
    from rag.models import Feedback

    message = Message.objects.filter(pk=message_id, role=Message.Role.ASSISTANT).select_related("conversation").first()
    if message is None or message.conversation.owner_id != user.pk:
        from django.http import Http404

        raise Http404("回答が見つかりません。")
    with transaction.atomic():
        for collection_id in message.collection_ids or [None]:
            Feedback.objects.update_or_create(
                message_id=message.pk, user=user, collection_id=collection_id,
                defaults={"helpful": helpful, "comment": comment.strip()[:500]},
            )
