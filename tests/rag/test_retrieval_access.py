"""Search only ever returns passages of collections the user may read: the filter is in the SQL, per user."""

from __future__ import annotations

import hashlib

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404

from accounts.models import User
from rag.chunking import Passage
from rag.indexing import index_document
from rag.models import Collection, Document
from rag.queries import documents_for_user, get_collection_for_user, readable_collections
from rag.retrieval import search

pytestmark = pytest.mark.django_db

QUESTION = "要介護認定の申請はどこで受け付けていますか"
TEXT = "要介護認定の申請は、福祉課の窓口で受け付けています。結果の通知まではおよそ30日かかります。"


def add_collection(name: str, owner: User, access: str, text: str = TEXT) -> Collection:
    collection = Collection.objects.create(name=name, owner=owner, access=access)
    document = Document.objects.create(
        collection=collection, title=name, original_name=f"{name}.txt",
        content_hash=hashlib.sha256(f"{name}{text}".encode()).hexdigest(), state=Document.State.READY,
    )
    index_document(document, [Passage(text=text)])
    return collection


@pytest.fixture
def people(tenant_a):
    connection.set_tenant(tenant_a)
    return {number: User.objects.get(staff_number=number) for number in ("A001", "A002", "A003")}


def found_collections(user, **kwargs) -> set[int]:
    return {hit.collection_id for hit in search(user, QUESTION, k=20, **kwargs)}


def test_a_general_user_never_retrieves_a_private_collection_of_someone_else(people):
    admin, sato, suzuki = people["A001"], people["A002"], people["A003"]
    private = add_collection("鈴木のメモ", suzuki, Collection.Access.PRIVATE)
    admins_private = add_collection("管理者のメモ", admin, Collection.Access.PRIVATE)

    assert found_collections(suzuki) == {private.pk}
    assert found_collections(sato) == set()
    assert found_collections(sato, collection_ids=[private.pk, admins_private.pk]) == set()  # asking is not enough
    # Administrators manage every collection, but answers are not built from others' private ones.
    assert found_collections(admin) == {admins_private.pk}
    assert get_collection_for_user(admin, private.pk, write=True) == private
    assert documents_for_user(admin, private).count() == 1  # metadata for management
    with pytest.raises(Http404):
        get_collection_for_user(admin, private.pk)
    with pytest.raises(Http404):
        get_collection_for_user(sato, private.pk, write=True)


def test_a_general_user_never_retrieves_a_group_collection_they_are_not_in(people):
    admin, sato, suzuki = people["A001"], people["A002"], people["A003"]
    welfare = Group.objects.create(name="福祉課")
    suzuki.groups.add(welfare)
    shared = add_collection("福祉の手引き", admin, Collection.Access.GROUPS)
    shared.groups.add(welfare)

    assert found_collections(suzuki) == {shared.pk}
    assert found_collections(sato) == set()
    assert documents_for_user(sato, shared).count() == 0
    with pytest.raises(Http404):
        get_collection_for_user(sato, shared.pk)

    suzuki.groups.remove(welfare)  # a removed member loses access at once: nothing is cached
    assert found_collections(suzuki) == set()


def test_a_collection_shared_with_chosen_users_reaches_only_them(people):
    admin, sato, suzuki = people["A001"], people["A002"], people["A003"]
    chosen = add_collection("個別共有", admin, Collection.Access.USERS)
    chosen.users.add(sato)

    assert found_collections(sato) == {chosen.pk}
    assert found_collections(suzuki) == set()
    with pytest.raises(PermissionDenied):  # may read, may not change
        get_collection_for_user(sato, chosen.pk, write=True)


def test_everyone_in_the_municipality_reads_a_collection_for_all_and_inactive_users_read_nothing(people):
    admin, sato = people["A001"], people["A002"]
    for_all = add_collection("全庁共有", admin, Collection.Access.ALL)

    assert found_collections(sato) == {for_all.pk}
    sato.is_active = False
    sato.save(update_fields=["is_active"])
    assert found_collections(sato) == set()
    assert list(readable_collections(sato)) == []


def test_another_municipalitys_passages_are_never_returned(tenant_a, tenant_b):
    connection.set_tenant(tenant_b)
    their_admin = User.objects.get(staff_number="B001")
    theirs = add_collection("はるな町の手引き", their_admin, Collection.Access.ALL,
                            text="はるな町の要介護認定の申請は、はるな町役場の健康福祉課で受け付けています。")
    assert found_collections(their_admin) == {theirs.pk}

    connection.set_tenant(tenant_a)
    sato = User.objects.get(staff_number="A002")
    assert search(sato, QUESTION, k=20) == []  # the other schema's passages do not exist here
    ours = add_collection("あかぎ市の手引き", User.objects.get(staff_number="A001"), Collection.Access.ALL)
    hits = search(sato, QUESTION, k=20)
    assert [hit.collection_id for hit in hits] == [ours.pk]
    assert all("はるな町" not in hit.text for hit in hits)
