"""Who may read which knowledge base (コレクション): the one place these rules are written.

Reading a collection means getting its passages into a search result, a chat answer or a 根拠 panel, and
seeing its documents listed. The rule is the collection's access setting:

- ``all``: everyone in the municipality (the schema is the municipality);
- ``groups``: members of the chosen groups, checked at query time, so a removed member loses access at once;
- ``users``: the chosen users;
- ``private``: the owner only;

and the owner always reads their own collection. Inactive users read nothing.

Administrators follow the same reading rule. They manage every collection of the municipality (rename, change
who may use it, delete, look at documents' states and chunk counts for diagnostics: ``manageable_collections``,
``get_collection_for_user(..., write=True)``, ``documents_for_user``), but their searches and chats are not
built from a collection they could not read as staff: "a user never gets an answer built from a document they
may not see" holds for them too, and an administrator who needs the content grants themselves access, which
the collection's access list then shows to everyone who manages it.
"""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from rag.models import Collection, Document

NOT_FOUND = "ナレッジが見つかりません。削除されたか、利用する権限がありません。"
NOT_ALLOWED = "このナレッジを変更できるのは、作成者と管理者だけです。"


def _is_active(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def _is_admin(user) -> bool:
    return _is_active(user) and bool(getattr(user, "is_tenant_admin", False))


def readable_collections(user) -> QuerySet[Collection]:
    """Collections whose passages ``user`` may get in search and chat (administrators included, see above)."""
    if not _is_active(user):
        return Collection.objects.none()
    # Subqueries rather than joins: no DISTINCT needed, and the retrieval SQL can embed the id list as is.
    in_chosen_group = Exists(
        Collection.groups.through.objects.filter(
            collection_id=OuterRef("pk"),
            group_id__in=Group.objects.filter(user=user).values("pk"),
        )
    )
    chosen_user = Exists(Collection.users.through.objects.filter(collection_id=OuterRef("pk"), user_id=user.pk))
    return Collection.objects.filter(
        Q(owner_id=user.pk)
        | Q(access=Collection.Access.ALL)
        | (Q(access=Collection.Access.GROUPS) & in_chosen_group)
        | (Q(access=Collection.Access.USERS) & chosen_user)
    )


def readable_collection_ids(user, collection_ids: list[int] | None = None) -> list[int]:
    """Ids of the collections ``user`` may read, narrowed to ``collection_ids`` when given (others dropped)."""
    collections = readable_collections(user)
    if collection_ids is not None:
        collections = collections.filter(pk__in=collection_ids)
    return list(collections.order_by("pk").values_list("pk", flat=True))


def manageable_collections(user) -> QuerySet[Collection]:
    """Collections ``user`` may change: every collection for an administrator, their own for others."""
    if _is_admin(user):
        return Collection.objects.all()
    if not _is_active(user):
        return Collection.objects.none()
    return Collection.objects.filter(owner_id=user.pk)


def get_collection_for_user(user, collection_id: int, *, write: bool = False) -> Collection:
    """The collection, or 404 when ``user`` may not read it (its existence is not revealed).

    ``write=True``: the owner or an administrator (who gets it even when they may not read it, to manage it);
    someone who may read but not change it gets 403.
    """
    collection = readable_collections(user).filter(pk=collection_id).first()
    if write:
        if _is_admin(user):
            collection = Collection.objects.filter(pk=collection_id).first()
        if collection is None:
            raise Http404(NOT_FOUND)
        if not (_is_admin(user) or collection.owner_id == user.pk):
            raise PermissionDenied(NOT_ALLOWED)
        return collection
    if collection is None:
        raise Http404(NOT_FOUND)
    return collection


def documents_for_user(user, collection: Collection) -> QuerySet[Document]:
    """The documents of ``collection`` that ``user`` may see listed (all of them, or none).

    Administrators see every collection's documents as metadata (title, state, chunk count, failure) for
    management and diagnostics; passage text reaches them only through ``readable_collections``.
    """
    if _is_admin(user) or readable_collections(user).filter(pk=collection.pk).exists():
        return Document.objects.filter(collection_id=collection.pk)
    return Document.objects.none()
