"""Who sees a template: 自分のみ → the owner, 選んだグループ → members (leaving hides it at once), 団体全体 → all."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.http import Http404

from prompts.queries import get_template_for_user, templates_for_user
from tests.conftest import login
from tests.prompts.helpers import STAFF_PASSWORD, make_template, user

pytestmark = pytest.mark.django_db


def _titles(tenant, staff_number: str) -> set[str]:
    connection.set_tenant(tenant)
    titles = set(templates_for_user(user(staff_number)).values_list("title", flat=True))
    connection.set_schema_to_public()
    return titles


def test_a_private_template_is_seen_by_its_owner_only(tenant_a, client_a):
    template = make_template(tenant_a, owner="A002", title="佐藤の下書き")
    assert "佐藤の下書き" in _titles(tenant_a, "A002")
    assert "佐藤の下書き" not in _titles(tenant_a, "A003")
    assert "佐藤の下書き" not in _titles(tenant_a, "A001")  # not even the administrator's list
    login(client_a, "A003", STAFF_PASSWORD)
    assert client_a.get(f"/templates/{template.pk}/").status_code == 404
    assert "佐藤の下書き" not in client_a.get("/templates/").content.decode()


def test_a_tenant_template_is_seen_by_everyone(tenant_a, client_a):
    template = make_template(tenant_a, owner="A002", scope="tenant", title="全庁共有の依頼文")
    assert {"全庁共有の依頼文"} <= _titles(tenant_a, "A003") & _titles(tenant_a, "A001")
    login(client_a, "A003", STAFF_PASSWORD)
    assert client_a.get(f"/templates/{template.pk}/").status_code == 200


def test_a_group_template_is_seen_by_members_and_disappears_when_a_member_leaves(tenant_a, client_a):
    connection.set_tenant(tenant_a)
    group = Group.objects.create(name="税務課")
    user("A002").groups.add(group)
    user("A003").groups.add(group)
    connection.set_schema_to_public()
    template = make_template(tenant_a, owner="A002", scope="groups", groups=[group], title="税務課の照会文")
    assert "税務課の照会文" in _titles(tenant_a, "A003")
    assert "税務課の照会文" not in _titles(tenant_a, "A001")  # not a member

    login(client_a, "A003", STAFF_PASSWORD)
    assert client_a.get(f"/templates/{template.pk}/").status_code == 200

    connection.set_tenant(tenant_a)
    user("A003").groups.remove(group)
    with pytest.raises(Http404):
        get_template_for_user(user("A003"), template.pk)
    connection.set_schema_to_public()
    assert "税務課の照会文" not in _titles(tenant_a, "A003")
    assert client_a.get(f"/templates/{template.pk}/").status_code == 404
    assert "税務課の照会文" in _titles(tenant_a, "A002")  # the owner keeps it


def test_search_by_text_and_category_and_pinned_first(tenant_a):
    connection.set_tenant(tenant_a)
    sato = user("A002")
    assert [t.category for t in templates_for_user(sato, category="minutes")] == ["minutes"]
    found = list(templates_for_user(sato, query="やさしい日本語"))
    assert found and all("やさしい日本語" in (t.title + t.description + t.body) for t in found)
    assert list(templates_for_user(sato, query="存在しない語句ぬぬぬ")) == []
    last = templates_for_user(sato, sort="title").last()
    last.pinned = True
    last.save()
    assert templates_for_user(sato, sort="title").first() == last
    assert templates_for_user(sato, sort="newest").first() == last
    connection.set_schema_to_public()
