"""The group switch 「テンプレートを団体全体に共有できる」 decides whether members may share with everyone."""

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import connection

from accounts.models import GroupPolicy, User
from prompts import services


def test_a_group_without_the_sharing_right_keeps_templates_inside_the_group(tenant_a):
    connection.set_tenant(tenant_a)
    group = Group.objects.create(name="臨時職員")
    GroupPolicy.objects.create(group=group, can_share_templates=False)
    sato = User.objects.get(staff_number="A002")
    sato.groups.add(group)
    with pytest.raises(ValidationError) as excinfo:
        services.save_template(actor=sato, title="案内", category="document", body="{{件名}}の案内文", scope="tenant")
    assert "団体全体への共有はできません" in str(excinfo.value)
    template = services.save_template(actor=sato, title="案内", category="document", body="{{件名}}の案内文",
                                      scope="groups", group_ids=[group.pk])
    assert template.scope == "groups"
