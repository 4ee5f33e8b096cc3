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
