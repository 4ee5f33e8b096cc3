"""Writing and verifying the audit trail. Other apps call ``record``; audit imports none of them but tenants."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from audit.models import AuditEvent, AuditRecordBase

GENESIS = "0" * 64


def _model_for_current_schema() -> type[AuditRecordBase]:
    # The public schema (the prefecture operator) keeps its own trail in tenants.OperatorAuditEvent.
    if connection.schema_name == "public":
        from tenants.models import OperatorAuditEvent

        return OperatorAuditEvent
    return AuditEvent


def _digest(prev_hash: str, fields: dict[str, Any]) -> str:
    canonical = json.dumps(fields, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def _fields(event: AuditRecordBase) -> dict[str, Any]:
    return {
        "created_at": event.created_at.isoformat(),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "target": event.target,
        "detail": event.detail,
        "ip_address": event.ip_address,
    }


def client_ip(request) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def record(
    *,
    action: str,
    actor=None,
    actor_label: str = "",
    target: str = "",
    detail: dict[str, Any] | None = None,
    request=None,
    ip_address: str | None = None,
) -> AuditRecordBase:
    """Append one event to the current schema's trail, inside the caller's transaction if there is one."""
    model = _model_for_current_schema()
    if actor is not None and getattr(actor, "pk", None) is not None:
        actor_id = actor.pk
        actor_label = actor_label or str(actor)
    else:
        actor_id = None
    with transaction.atomic():
        # One writer at a time per schema keeps the chain linear.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"audit:{connection.schema_name}"])
        last = model.objects.order_by("-id").values_list("hash", flat=True).first()
        event = model(
            created_at=timezone.now(),
            actor_id=actor_id,
            actor_label=actor_label[:255],
            action=action,
            target=target[:255],
            detail=detail or {},
            ip_address=ip_address or client_ip(request),
            prev_hash=last or GENESIS,
        )
        event.hash = _digest(event.prev_hash, _fields(event))
        event.save()
    return event


def _chain_start(model) -> str:
    if model is AuditEvent:
        from audit.models import AuditAnchor

        anchor = AuditAnchor.objects.order_by("-id").first()
        if anchor is not None:
            return anchor.purged_through_hash
    return GENESIS


def purge_older_than(days: int) -> int:
    """Remove the current municipality's events older than ``days`` (the retention policy), keeping the rest
    verifiable. Only the operator's ``audit_purge`` command calls this; nothing in the application deletes events.
    """
    from datetime import timedelta

    from audit.models import AuditAnchor

    cutoff = timezone.now() - timedelta(days=days)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"audit:{connection.schema_name}"])
        last = AuditEvent.objects.filter(created_at__lt=cutoff).order_by("-id").first()
        if last is None:
            return 0
        with connection.cursor() as cursor:
            # A plain SQL DELETE: the model refuses deletes so that no application code path can remove events.
            cursor.execute("DELETE FROM audit_auditevent WHERE id <= %s", [last.id])
            removed = cursor.rowcount
        AuditAnchor.objects.create(purged_through_id=last.id, purged_through_hash=last.hash, removed=removed)
        record(action="audit.retention", actor_label="system", target=f"through:{last.id}",
               detail={"removed": removed, "days": days})
    return removed


def verify_chain() -> tuple[bool, AuditRecordBase | None]:
    """Return (intact, the first event whose link is broken) for the current schema's trail."""
    model = _model_for_current_schema()
    prev = _chain_start(model)
    for event in model.objects.order_by("id").iterator():
        if event.prev_hash != prev or _digest(prev, _fields(event)) != event.hash:
            return False, event
        prev = event.hash
    return True, None
