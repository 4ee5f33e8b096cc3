"""Who may see and change which prompt template (テンプレート): the one place these rules are written.

- ``private`` (自分のみ): the owner only;
- ``groups`` (選んだグループ): the owner and members of the chosen groups, checked at query time, so a user who
  leaves a group stops seeing its templates at once;
- ``tenant`` (団体全体): everyone in the municipality (the schema is the municipality).

Changing a template is for its owner and the municipality's administrators; marking おすすめ and pinning are
for administrators only (``services``).
"""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from prompts.models import PromptTemplate

NOT_FOUND = "テンプレートが見つかりません。削除されたか、利用する権限がありません。"
NOT_ALLOWED = (
    "このテンプレートを変更できるのは、作成者と管理者だけです。自分用に編集するには「コピーして編集」を使ってください。"
)

SORTS = {
    "popular": ("-pinned", "-use_count", "title"),
    "newest": ("-pinned", "-created_at", "-id"),
    "title": ("-pinned", "title", "id"),
}
SORT_LABELS = {"popular": "利用回数順", "newest": "新しい順", "title": "タイトル順"}


def _is_active(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def can_write(user, template: PromptTemplate) -> bool:
    return _is_active(user) and (template.owner_id == user.pk or bool(getattr(user, "is_tenant_admin", False)))


def visible_templates(user) -> QuerySet[PromptTemplate]:
    if not _is_active(user):
        return PromptTemplate.objects.none()
    in_chosen_group = Exists(
        PromptTemplate.groups.through.objects.filter(
            prompttemplate_id=OuterRef("pk"),
            group_id__in=Group.objects.filter(user=user).values("pk"),
        )
    )
    return PromptTemplate.objects.filter(
        Q(owner_id=user.pk)
        | Q(scope=PromptTemplate.Scope.TENANT)
        | (Q(scope=PromptTemplate.Scope.GROUPS) & in_chosen_group)
    )


def templates_for_user(user, *, query: str = "", category: str = "", sort: str = "") -> QuerySet[PromptTemplate]:
    """Templates ``user`` may use, searched by text and category; pinned first, then by the chosen order."""
    qs = visible_templates(user).select_related("owner")
    query = (query or "").strip()
    for word in query.split()[:10]:
        qs = qs.filter(Q(title__icontains=word) | Q(description__icontains=word) | Q(body__icontains=word))
    if category in PromptTemplate.Category.values:
        qs = qs.filter(category=category)
    return qs.order_by(*SORTS.get(sort, SORTS["popular"]))


def get_template_for_user(user, template_id: int, *, write: bool = False) -> PromptTemplate:
    """The template if ``user`` may see it (404 otherwise); with ``write``, 403 unless they may change it."""
    template = visible_templates(user).filter(pk=template_id).select_related("owner").first()
    if template is None:
        raise Http404(NOT_FOUND)
    if write and not can_write(user, template):
        raise PermissionDenied(NOT_ALLOWED)
    return template
