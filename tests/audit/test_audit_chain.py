"""The audit trail is append-only and a tampered row is found."""

import pytest
from django.db import connection

from audit.models import AuditEvent
from audit.services import record, verify_chain


def test_events_form_an_intact_chain(tenant_a):
    connection.set_tenant(tenant_a)
    for n in range(3):
        record(action="test.chain", actor_label="tester", target=f"t{n}", detail={"n": n, "名前": "値"})
    assert verify_chain() == (True, None)


def test_editing_a_row_in_the_database_breaks_the_chain_at_that_row(tenant_a):
    connection.set_tenant(tenant_a)
    events = [record(action="test.chain", actor_label="tester", target=f"t{n}") for n in range(3)]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET target = 'forged' WHERE id = %s", [events[1].id])
    intact, first_broken = verify_chain()
    assert not intact and first_broken.id == events[1].id


def test_the_application_refuses_to_change_or_delete_events(tenant_a):
    connection.set_tenant(tenant_a)
    event = record(action="test.chain", actor_label="tester", target="x")
    event.target = "changed"
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()
    assert AuditEvent.objects.get(pk=event.pk).target == "x"


def test_operator_events_go_to_the_public_trail(db):
    from tenants.models import OperatorAuditEvent

    connection.set_schema_to_public()
    record(action="test.public", actor_label="operator", target="p")
    assert OperatorAuditEvent.objects.filter(action="test.public").exists()
    assert verify_chain() == (True, None)
