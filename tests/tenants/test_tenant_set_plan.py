"""The prefecture changes a municipality's plan; it is audited with before and after values."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tenants.models import OperatorAuditEvent, Tenant


def _run(*args):
    out = StringIO()
    call_command("tenant_set_plan", *args, stdout=out)
    return out.getvalue()


def test_caps_and_models_change_and_the_change_is_audited(db, settings, llm_stub):
    from tests.conftest import stub_models

    settings.AKAGI_LLM_MODELS = stub_models(llm_stub)
    out = _run("demo-a", "--monthly-char-cap", "2000000", "--seat-cap", "unlimited", "--models", "stub-gpt")
    assert "monthly_char_cap: 1000000 → 2000000" in out
    tenant = Tenant.objects.get(slug="demo-a")
    assert (tenant.monthly_char_cap, tenant.seat_cap, tenant.allowed_models) == (2_000_000, None, ["stub-gpt"])
    event = OperatorAuditEvent.objects.filter(action="tenant.plan").latest("id")
    assert event.detail["monthly_char_cap"] == {"before": 1_000_000, "after": 2_000_000}


def test_unknown_models_and_bad_values_are_refused_in_japanese(db):
    with pytest.raises(CommandError) as excinfo:
        _run("demo-a", "--models", "gpt-99")
    assert "カタログにないモデル" in str(excinfo.value)
    with pytest.raises(CommandError):
        _run("demo-a", "--seat-cap", "たくさん")
    with pytest.raises(CommandError):
        _run("no-such-town", "--monthly-char-cap", "5")


def test_raising_a_cap_in_the_django_admin_is_audited_like_the_command(public_client):
    from tests.conftest import login

    login(public_client, "PREF-0001", "Unei#Demo2026")
    tenant = Tenant.objects.get(slug="demo-b")
    response = public_client.post(f"/django-admin/tenants/tenant/{tenant.pk}/change/", {
        "name": tenant.name, "seat_cap": "80", "monthly_char_cap": "3000000", "allowed_models": "[]",
        "is_active": "on",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    tenant.refresh_from_db()
    assert (tenant.seat_cap, tenant.monthly_char_cap) == (80, 3_000_000)
    event = OperatorAuditEvent.objects.filter(action="tenant.plan", target="tenant:demo-b").latest("id")
    assert event.detail["seat_cap"] == {"before": 50, "after": 80}
    assert event.actor_label.startswith("県 運営担当")
