"""`manage.py audit_verify` passes on an intact trail and names the first altered record."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from audit.services import record


def test_audit_verify_passes_on_an_untouched_trail(db):
    out = StringIO()
    call_command("audit_verify", stdout=out)
    text = out.getvalue()
    assert "OK  あかぎ市（デモ）（demo-a）" in text and "OK  運営（public）" in text


def test_audit_verify_fails_naming_the_event_altered_in_sql(tenant_a):
    connection.set_tenant(tenant_a)
    events = [record(action="test.verify", actor_label="tester", target=f"row{n}") for n in range(3)]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET detail = '{\"forged\": true}' WHERE id = %s", [events[1].id])
    connection.set_schema_to_public()
    out = StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command("audit_verify", "--tenant", "demo-a", stdout=out)
    assert f"記録 #{events[1].id}" in out.getvalue()
    assert "demo-a" in str(excinfo.value)
