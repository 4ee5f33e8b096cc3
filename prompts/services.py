"""Every write to prompt templates: create, change, copy, delete, use. Each one writes its audit event."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F

from accounts.queries import require_tenant_admin
from audit.services import record
from prompts.models import PromptTemplate, fill
from prompts.queries import can_write


def _target(template: PromptTemplate) -> str:
    return f"prompt_template:{template.pk}"


def _allowed_groups(actor, group_ids: Iterable[int]) -> list[Group]:
    ids = {int(g) for g in group_ids}
    groups = Group.objects.filter(pk__in=ids)
    if not getattr(actor, "is_tenant_admin", False):
        # Staff share with groups they belong to; administrators with any group.
        groups = groups.filter(user=actor)
    found = list(groups)
    if len(found) != len(ids):
        raise ValidationError({"groups": ["自分が所属していないグループ、または存在しないグループは選べません。"]})
    return found


@transaction.atomic
def _may_share_with_everyone(user) -> bool:
    """The group switch 「テンプレートを団体全体に共有できる」: a user gets what any of their groups allows."""
    from accounts.models import GroupPolicy

    if getattr(user, "is_tenant_admin", False):
        return True
    flags = list(GroupPolicy.objects.filter(group__user=user).values_list("can_share_templates", flat=True))
    return not flags or any(flags)


def save_template(
    *,
    actor,
    template: PromptTemplate | None = None,
    title: str,
    category: str,
    description: str = "",
    body: str,
    scope: str,
    group_ids: Iterable[int] = (),
    recommended: bool | None = None,
    pinned: bool | None = None,
    request=None,
) -> PromptTemplate:
    """Create a template (``template`` None) or change one the actor may write; flags are for administrators."""
    creating = template is None
    if creating:
        template = PromptTemplate(owner=actor)
    elif not can_write(actor, template):
        raise PermissionDenied("このテンプレートを変更できるのは、作成者と管理者だけです。")
    flags = {"recommended": recommended, "pinned": pinned}
    if any(value is not None and value != getattr(template, name) for name, value in flags.items()):
        require_tenant_admin(actor)
    template.title = (title or "").strip()[:100]
    template.category = category
    template.description = (description or "").strip()[:300]
    template.body = (body or "").replace("\r\n", "\n")
    template.scope = scope
    for name, value in flags.items():
        if value is not None:
            setattr(template, name, value)
    template.clean()
    if scope == PromptTemplate.Scope.TENANT and not _may_share_with_everyone(actor):
        raise ValidationError({"scope": ["所属グループの設定により、団体全体への共有はできません。"
                                         "「自分のみ」か「選んだグループ」を選んでください。"]})
    groups = _allowed_groups(actor, group_ids) if scope == PromptTemplate.Scope.GROUPS else []
    if scope == PromptTemplate.Scope.GROUPS and not groups:
        raise ValidationError({"groups": ["公開するグループを1つ以上選んでください。"]})
    template.save()
    template.groups.set(groups)
    record(
        action="prompt_template.create" if creating else "prompt_template.update",
        actor=actor, target=_target(template), request=request,
        detail={"title": template.title, "scope": template.scope, "groups": [g.pk for g in groups],
                "recommended": template.recommended, "pinned": template.pinned},
    )
    return template


@transaction.atomic
def copy_template(*, actor, template: PromptTemplate, request=None) -> PromptTemplate:
    """The actor's own private copy, to edit as their version; the original is left as it is."""
    copy = PromptTemplate.objects.create(
        title=f"{template.title}（コピー）"[:100], category=template.category, description=template.description,
        body=template.body, scope=PromptTemplate.Scope.PRIVATE, owner=actor, copied_from=template,
    )
    record(action="prompt_template.copy", actor=actor, target=_target(copy), request=request,
           detail={"copied_from": template.pk, "title": copy.title})
    return copy


@transaction.atomic
def delete_template(*, actor, template: PromptTemplate, request=None) -> None:
    if not can_write(actor, template):
        raise PermissionDenied("このテンプレートを削除できるのは、作成者と管理者だけです。")
    record(action="prompt_template.delete", actor=actor, target=_target(template), request=request,
           detail={"title": template.title})
    template.delete()


@transaction.atomic
def use_template(*, actor, template: PromptTemplate, values: dict[str, str], request=None) -> str:
    """The filled prompt for the chat box; counts the use. Raises ValidationError for a missing value."""
    prompt = fill(template.body, values)
    PromptTemplate.objects.filter(pk=template.pk).update(use_count=F("use_count") + 1)
    record(action="prompt_template.use", actor=actor, target=_target(template), request=request,
           detail={"title": template.title, "category": template.category, "variables": list(values)})
    return prompt
