"""Making templates in demo-a for the tests."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import connection

from accounts.models import User
from prompts.models import PromptTemplate

ADMIN_PASSWORD = "Kanri#Demo2026"
STAFF_PASSWORD = "Shokuin#Demo2026"


def user(staff_number: str) -> User:
    return User.objects.get(staff_number=staff_number)


def make_template(tenant, *, owner: str, scope: str = "private", groups: list[Group] = (), title: str = "テスト",
                  body: str = "{{対象}}について教えてください。") -> PromptTemplate:
    connection.set_tenant(tenant)
    template = PromptTemplate.objects.create(title=title, category="other", body=body, scope=scope,
                                             owner=user(owner))
    template.groups.set(groups)
    connection.set_schema_to_public()
    return template
