"""Only the owner (and administrators) change a template; おすすめ / ピン留め are for administrators; copy is open."""

import pytest
from django.db import connection

from audit.models import AuditEvent
from prompts.models import PromptTemplate
from tests.conftest import login
from tests.prompts.helpers import ADMIN_PASSWORD, STAFF_PASSWORD, make_template

pytestmark = pytest.mark.django_db

FORM = {"title": "改題", "category": "summary", "body": "{{資料}}を要約", "scope": "tenant"}


def test_a_general_user_cannot_edit_or_delete_someone_elses_template_and_is_logged(tenant_a, client_a):
    template = make_template(tenant_a, owner="A002", scope="tenant", title="元の題")
    login(client_a, "A003", STAFF_PASSWORD)
    assert client_a.get(f"/templates/{template.pk}/edit/").status_code == 403
    assert client_a.post(f"/templates/{template.pk}/edit/", FORM).status_code == 403
    assert client_a.post(f"/templates/{template.pk}/delete/").status_code == 403
    connection.set_tenant(tenant_a)
    assert PromptTemplate.objects.get(pk=template.pk).title == "元の題"
    denied = AuditEvent.objects.filter(action="access.denied", target=f"/templates/{template.pk}/edit/")
    assert denied.count() == 2


def test_a_general_user_cannot_edit_a_seeded_template(tenant_a, client_a):
    connection.set_tenant(tenant_a)
    seeded = PromptTemplate.objects.filter(owner=None).first()
    connection.set_schema_to_public()
    login(client_a, "A002", STAFF_PASSWORD)
    assert client_a.post(f"/templates/{seeded.pk}/edit/", FORM).status_code == 403


def test_a_general_user_cannot_mark_recommended_or_pinned(tenant_a, client_a):
    template = make_template(tenant_a, owner="A002", scope="tenant", title="自分の")
    login(client_a, "A002", STAFF_PASSWORD)
    assert client_a.post(f"/templates/{template.pk}/edit/", {**FORM, "recommended": "on"}).status_code == 403
    assert client_a.post(f"/templates/{template.pk}/edit/", {**FORM, "pinned": "on"}).status_code == 403
    assert client_a.post("/templates/new/", {**FORM, "pinned": "on"}).status_code == 403
    connection.set_tenant(tenant_a)
    row = PromptTemplate.objects.get(pk=template.pk)
    assert (row.title, row.recommended, row.pinned) == ("自分の", False, False)
    assert not PromptTemplate.objects.filter(title="改題").exists()
    connection.set_schema_to_public()

    # Their own edit without the flags goes through.
    assert client_a.post(f"/templates/{template.pk}/edit/", FORM).status_code == 302


def test_an_admin_marks_recommended_and_pins_and_the_owner_edits_their_own(tenant_a, client_a):
    template = make_template(tenant_a, owner="A002", scope="tenant", title="自分の")
    login(client_a, "A001", ADMIN_PASSWORD)
    response = client_a.post(f"/templates/{template.pk}/edit/", {**FORM, "recommended": "on", "pinned": "on"})
    assert response.status_code == 302
    connection.set_tenant(tenant_a)
    row = PromptTemplate.objects.get(pk=template.pk)
    assert (row.recommended, row.pinned) == (True, True)
    assert AuditEvent.objects.filter(action="prompt_template.update", target=f"prompt_template:{row.pk}").exists()


def test_copying_someone_elses_template_makes_an_own_private_version(tenant_a, client_a):
    connection.set_tenant(tenant_a)
    seeded = PromptTemplate.objects.filter(owner=None).order_by("pk").first()
    connection.set_schema_to_public()
    login(client_a, "A003", STAFF_PASSWORD)
    response = client_a.post(f"/templates/{seeded.pk}/copy/")
    assert response.status_code == 302
    copy_id = int(response["Location"].rstrip("/").split("/")[-2])
    edited = client_a.post(f"/templates/{copy_id}/edit/", {**FORM, "scope": "private", "title": "私の版"})
    assert edited.status_code == 302

    connection.set_tenant(tenant_a)
    copy = PromptTemplate.objects.get(pk=copy_id)
    assert (copy.title, copy.owner.staff_number, copy.copied_from_id, copy.scope) == ("私の版", "A003", seeded.pk,
                                                                                       "private")
    original = PromptTemplate.objects.get(pk=seeded.pk)
    assert original.title == seeded.title and original.body == seeded.body
    assert AuditEvent.objects.filter(action="prompt_template.copy", target=f"prompt_template:{copy_id}").exists()
