"""The daily usage summary: each municipality's figures for one day, recomputed from its own records.

The operator's dashboard reads only ``DailyUsageSummary`` rows (public schema), so a page view never visits 50
schemas. ``summarize_day`` enters one municipality through ``tenants.crossing.in_tenant``, reads that day's
records and replaces the day's row; running it again for the same day gives the same row, never a doubled one.

Where each figure comes from (a record counts on its ``created_at`` day in Asia/Tokyo):

- chars, cost_yen: ``usage.UsageRecord`` prompt_chars + answer_chars and cost_yen over every status. Blocked and
  refused prompts carry 0, so this is what was charged against the municipality's quota.
- prompts: records with a status the municipality's own 利用状況 counts (``usage.stats.COUNTED``: sent, masked,
  cancelled), so the operator and the municipality's administrator see the same number.
- active_users: distinct users with any record that day (a deleted user counts by the label kept on the record).
- blocked / masked: records with status ``blocked`` / ``masked``.
- pii_by_type: ``{type: {"blocked": n, "masked": n}}``, the number of prompts in which the screen found that kind
  of personal information (or a banned word), read from the ``findings`` the pipeline writes into the
  ``prompt.blocked`` / ``prompt.masked`` audit events (types only: the trail never holds the information itself).
  A ``prompt.masked`` event counts only when its usage record is ``masked`` (complete, or partial and not
  cancelled), so the per-type figures describe the same prompts as ``masked``.
- template_uses_by_category: ``prompt_template.use`` audit events (the dated record of a use; the template's
  ``use_count`` is only a running total), by the category in the event or else the template's current category.
- users, documents, collections: stock at the end of the day (active accounts and documents/knowledge bases
  created by then; rows deleted since are not known for past days).

If the municipality's audit trail was shortened by the retention policy (``audit_purge``) past the start of the
day, the two audit-derived figures of an existing row are kept instead of being recomputed from a partial trail.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter, defaultdict
from decimal import Decimal

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from tenants.crossing import in_tenant, municipalities
from tenants.models import DailyUsageSummary, Tenant

logger = logging.getLogger(__name__)

PROMPT_EVENTS = ("prompt.blocked", "prompt.masked")
TEMPLATE_USE_EVENT = "prompt_template.use"
UNKNOWN_CATEGORY = "unknown"  # a template deleted before the summary ran, with no category in its event


def tokyo_today(now: dt.datetime | None = None) -> dt.date:
    from usage.quota import TOKYO

    return (now or timezone.now()).astimezone(TOKYO).date()


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a calendar day in Asia/Tokyo, as aware datetimes."""
    from usage.quota import TOKYO

    start = dt.datetime.combine(day, dt.time.min, tzinfo=TOKYO)
    return start, start + dt.timedelta(days=1)


def _usage_figures(start: dt.datetime, end: dt.datetime) -> dict:
    from usage.models import UsageRecord
    from usage.stats import COUNTED

    agg = UsageRecord.objects.filter(created_at__gte=start, created_at__lt=end).aggregate(
        chars=Coalesce(Sum(F("prompt_chars") + F("answer_chars")), 0),
        cost_yen=Coalesce(Sum("cost_yen"), Decimal(0)),
        prompts=Count("id", filter=Q(status__in=COUNTED)),
        blocked=Count("id", filter=Q(status=UsageRecord.Status.BLOCKED)),
        masked=Count("id", filter=Q(status=UsageRecord.Status.MASKED)),
        known_users=Count("user_id", distinct=True),
        deleted_users=Count("user_label", distinct=True, filter=Q(user_id__isnull=True)),
    )
    return {
        "chars": agg["chars"], "cost_yen": agg["cost_yen"], "prompts": agg["prompts"],
        "blocked": agg["blocked"], "masked": agg["masked"],
        "active_users": agg["known_users"] + agg["deleted_users"],
    }


def _distinct_users(start: dt.datetime, end: dt.datetime) -> int:
    from usage.models import UsageRecord

    agg = UsageRecord.objects.filter(created_at__gte=start, created_at__lt=end).aggregate(
        known=Count("user_id", distinct=True),
        deleted=Count("user_label", distinct=True, filter=Q(user_id__isnull=True)),
    )
    return agg["known"] + agg["deleted"]


def _counts_as_masked(detail_status: str | None, cancelled: bool | None) -> bool:
    # Mirrors chat.steps.finish: a masked prompt's usage record is "masked" when the answer completed, or
    # stopped early without the user cancelling; otherwise it is "failed" or "cancelled".
    return detail_status == "complete" or (detail_status == "partial" and not cancelled)


def _pii_by_type(start: dt.datetime, end: dt.datetime) -> dict[str, dict[str, int]]:
    from audit.models import AuditEvent

    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"blocked": 0, "masked": 0})
    events = AuditEvent.objects.filter(action__in=PROMPT_EVENTS, created_at__gte=start, created_at__lt=end)
    # Only the keys needed: the detail also holds the (masked) prompt and the whole answer.
    for action, findings, status, cancelled in events.values_list(
        "action", "detail__findings", "detail__status", "detail__cancelled"
    ).iterator(chunk_size=2000):
        if action == "prompt.masked":
            if not _counts_as_masked(status, cancelled):
                continue
            outcome = "masked"
        else:
            outcome = "blocked"
        for kind in {f.get("type") for f in findings or [] if isinstance(f, dict) and f.get("type")}:
            counts[kind][outcome] += 1
    return {kind: dict(value) for kind, value in sorted(counts.items())}


def _template_uses(start: dt.datetime, end: dt.datetime) -> dict[str, int]:
    from audit.models import AuditEvent
    from prompts.models import PromptTemplate

    uses = list(
        AuditEvent.objects.filter(action=TEMPLATE_USE_EVENT, created_at__gte=start, created_at__lt=end)
        .values_list("target", "detail__category")
    )
    ids = set()
    for target, _category in uses:
        _, _, pk = target.partition(":")
        if pk.isdigit():
            ids.add(int(pk))
    current = dict(PromptTemplate.objects.filter(pk__in=ids).values_list("pk", "category"))
    counts: Counter[str] = Counter()
    for target, category in uses:
        _, _, pk = target.partition(":")
        counts[category or current.get(int(pk) if pk.isdigit() else -1) or UNKNOWN_CATEGORY] += 1
    return dict(counts.most_common())


def _stock(end: dt.datetime) -> dict[str, int]:
    from accounts.models import User
    from rag.models import Collection, Document

    return {
        "users": User.objects.filter(is_active=True, date_joined__lt=end).count(),
        "documents": Document.objects.filter(created_at__lt=end).count(),
        "collections": Collection.objects.filter(created_at__lt=end).count(),
    }


def _trail_complete_since(start: dt.datetime) -> bool:
    """False when the retention purge may have removed events of the day (the trail starts after ``start``)."""
    from audit.models import AuditAnchor, AuditEvent

    if not AuditAnchor.objects.exists():
        return True
    oldest = AuditEvent.objects.order_by("id").values_list("created_at", flat=True).first()
    return oldest is not None and oldest <= start


def day_figures(day: dt.date) -> dict:
    """The figures of ``day`` for the municipality whose schema is current (call it inside ``in_tenant``)."""
    start, end = day_bounds(day)
    figures = _usage_figures(start, end)
    figures["month_active_users"] = _distinct_users(dt.datetime.combine(day.replace(day=1), dt.time.min,
                                                                         tzinfo=start.tzinfo), end)
    figures.update(_stock(end))
    if _trail_complete_since(start):
        figures["pii_by_type"] = _pii_by_type(start, end)
        figures["template_uses_by_category"] = _template_uses(start, end)
    return figures


def summarize_day(tenant: Tenant, day: dt.date) -> DailyUsageSummary:
    """Recompute ``tenant``'s row for ``day`` from its own records and store it (replacing any earlier one)."""
    with in_tenant(tenant):
        figures = day_figures(day)
    if "pii_by_type" not in figures:
        logger.warning("audit trail of %s purged past %s: keeping the summary's screening figures",
                       tenant.slug, day)
        figures.setdefault("pii_by_type", {})
        figures.setdefault("template_uses_by_category", {})
        existing = DailyUsageSummary.objects.filter(tenant=tenant, day=day).first()
        if existing is not None:
            figures["pii_by_type"] = existing.pii_by_type
            figures["template_uses_by_category"] = existing.template_uses_by_category
    summary, _ = DailyUsageSummary.objects.update_or_create(tenant=tenant, day=day, defaults=figures)
    return summary


def summarize_all(day: dt.date) -> list[DailyUsageSummary]:
    """Summarize ``day`` for every municipality; one that fails is logged and the others still get their row."""
    rows = []
    for tenant in municipalities():
        try:
            rows.append(summarize_day(tenant, day))
        except Exception:
            logger.exception("daily usage summary failed for %s on %s", tenant.slug, day)
    return rows


def days_of_month(month: dt.date, *, until: dt.date | None = None) -> list[dt.date]:
    """Every day of ``month`` (any date in it), stopping at ``until`` (inclusive) when given."""
    first = month.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    days, day = [], first
    while day < following and (until is None or day <= until):
        days.append(day)
        day += dt.timedelta(days=1)
    return days


def summarize_recent(now: dt.datetime | None = None) -> dict[str, int]:
    """What the beat task runs every 15 minutes: today so far, and yesterday again so that its last minutes count."""
    today = tokyo_today(now)
    done = {}
    for day in (today - dt.timedelta(days=1), today):
        done[day.isoformat()] = len(summarize_all(day))
    return done
