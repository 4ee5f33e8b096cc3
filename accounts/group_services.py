"""Groups and what their members may use. Each change writes its audit event."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import GroupPolicy
from audit.services import record


def create_group(*, name: str, description: str = "", actor, request=None) -> Group:
    name = (name or "").strip()
    if not name:
        raise ValidationError("グループ名を入力してください。")
    if len(name) > 150:
        raise ValidationError("グループ名は150文字以内にしてください。")
    if Group.objects.filter(name=name).exists():
        raise ValidationError(f"グループ「{name}」は既にあります。")
    with transaction.atomic():
        group = Group.objects.create(name=name)
        GroupPolicy.objects.create(group=group, description=description.strip()[:200])
        record(action="group.create", actor=actor, target=f"group:{name}", request=request)
    return group


def update_group_policy(
    *,
    group: Group,
    description: str,
    allowed_models: list[str],
    can_share_templates: bool,
    can_export_own_conversations: bool,
    members: list,
    actor,
    request=None,
) -> GroupPolicy:
    with transaction.atomic():
        policy, _ = GroupPolicy.objects.get_or_create(group=group)
        before = {"allowed_models": policy.allowed_models, "can_share_templates": policy.can_share_templates,
                  "can_export_own_conversations": policy.can_export_own_conversations,
                  "members": sorted(group.user_set.values_list("staff_number", flat=True))}
        policy.description = description.strip()[:200]
        policy.allowed_models = allowed_models
        policy.can_share_templates = can_share_templates
        policy.can_export_own_conversations = can_export_own_conversations
        policy.save()
        group.user_set.set(members)
        after = {"allowed_models": allowed_models, "can_share_templates": can_share_templates,
                 "can_export_own_conversations": can_export_own_conversations,
                 "members": sorted(group.user_set.values_list("staff_number", flat=True))}
        changed = {k: {"before": before[k], "after": after[k]} for k in after if before[k] != after[k]}
        if changed:
            record(action="group.update", actor=actor, target=f"group:{group.name}", detail=changed, request=request)
    return policy


def delete_group(*, group: Group, actor, request=None) -> None:
    with transaction.atomic():
        record(action="group.delete", actor=actor, target=f"group:{group.name}",
               detail={"members": sorted(group.user_set.values_list("staff_number", flat=True))}, request=request)
        group.delete()
