"""Retention: by default everything is kept; a purge keeps the remaining trail verifiable."""

import datetime as dt
from io import StringIO

from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import purge_older_than, record, verify_chain


def test_without_a_retention_period_nothing_is_removed(db, settings):
    settings.AKAGI_AUDIT_RETENTION_DAYS = None
    out = StringIO()
    call_command("audit_purge", stdout=out)
    assert "すべて保存" in out.getvalue()


def test_purging_old_events_keeps_the_rest_verifiable_and_tampering_still_shows(tenant_a):
    connection.set_tenant(tenant_a)
    old = [record(action="test.old", actor_label="t", target=str(n)) for n in range(3)]
    AuditEvent.objects.filter(pk__in=[e.pk for e in old]).update(created_at=timezone.now() - dt.timedelta(days=400))
    # Backdating rewrote those rows, so re-chain from scratch the way a real year-old trail would look.
    recent = [record(action="test.recent", actor_label="t", target=str(n)) for n in range(2)]
    removed = purge_older_than(365)
    assert removed >= 3
    assert not AuditEvent.objects.filter(pk__in=[e.pk for e in old]).exists()
    assert AuditEvent.objects.filter(pk__in=[e.pk for e in recent]).count() == 2
    assert verify_chain() == (True, None)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET target = 'x' WHERE id = %s", [recent[0].pk])
    intact, broken = verify_chain()
    assert not intact and broken.pk == recent[0].pk
