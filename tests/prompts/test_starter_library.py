"""Every municipality starts with the ten recommended templates, including one created after deployment."""

import pytest
from django.db import connection

from prompts.models import PromptTemplate, parse_variables
from prompts.seed import STARTER_TEMPLATES
from tenants.services import create_tenant

pytestmark = pytest.mark.django_db

CATEGORIES = {"document", "summary", "minutes", "notice", "easy_japanese", "translation", "excel", "planning",
              "answer", "publicity"}


def _assert_library_present() -> None:
    seeded = PromptTemplate.objects.filter(owner=None)
    assert seeded.count() == 10
    assert set(seeded.values_list("category", flat=True)) == CATEGORIES
    for template in seeded:
        assert template.scope == "tenant" and template.recommended
        assert 1 <= len(parse_variables(template.body)) <= 3, template.title
        template.clean()


def test_the_library_is_well_formed():
    assert len(STARTER_TEMPLATES) == 10
    assert {t["category"] for t in STARTER_TEMPLATES} == CATEGORIES


def test_the_library_is_present_in_the_demo_tenant(tenant_a):
    connection.set_tenant(tenant_a)
    _assert_library_present()


def test_the_library_is_present_in_a_newly_created_tenant(db):
    result = create_tenant(slug="newtown", name="新町")
    connection.set_tenant(result.tenant)
    _assert_library_present()
