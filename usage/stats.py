"""Usage statistics for administrators: per day, per user and per group, for any month."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, F, Max, Q, Sum
from django.db.models.functions import TruncDate

from usage.models import UsageRecord
from usage.quota import TOKYO

COUNTED = [UsageRecord.Status.SENT, UsageRecord.Status.MASKED, UsageRecord.Status.CANCELLED]
# Characters are summed over every status: a failed or refused prompt records only what the quota charged (the
# partial answer of a stream that broke, nothing for a refusal), so the sums match the municipality's counter.


def parse_month(value: str | None, default: dt.date) -> dt.date:
    """'2026-11' → date(2026, 11, 1); anything else → the default month."""
    try:
        year, month = (int(part) for part in (value or "").split("-"))
        return dt.date(year, month, 1)
    except (ValueError, TypeError):
        return default


def month_choices(current: dt.date, count: int = 13) -> list[dt.date]:
    months, year, month = [], current.year, current.month
    for _ in range(count):
        months.append(dt.date(year, month, 1))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return months


@dataclass
class DayPoint:
    day: dt.date
    chars: int
    prompts: int


def per_day(month: dt.date) -> list[DayPoint]:
    days = calendar.monthrange(month.year, month.month)[1]
    rows = (
        UsageRecord.objects.filter(month=month)
        .annotate(day=TruncDate("created_at", tzinfo=TOKYO))
        .values("day")
        .annotate(chars=Sum(F("prompt_chars") + F("answer_chars")), prompts=Count("id", filter=Q(status__in=COUNTED)))
    )
    by_day = {row["day"]: row for row in rows}
    points = []
    for n in range(1, days + 1):
        day = month.replace(day=n)
        row = by_day.get(day)
        points.append(DayPoint(day=day, chars=(row or {}).get("chars") or 0, prompts=(row or {}).get("prompts") or 0))
    return points


def per_user(month: dt.date) -> list[dict]:
    from accounts.models import User

    stats = (
        UsageRecord.objects.filter(month=month)
        .values("user_id", "user_label")
        .annotate(
            chars=Sum(F("prompt_chars") + F("answer_chars")),
            prompts=Count("id", filter=Q(status__in=COUNTED)),
            blocked=Count("id", filter=Q(status=UsageRecord.Status.BLOCKED)),
            conversations=Count("conversation_id", distinct=True, filter=Q(status__in=COUNTED)),
            last_use=Max("created_at"),
        )
        .order_by(F("chars").desc(nulls_last=True))
    )
    users = {u.pk: u for u in User.objects.filter(pk__in=[s["user_id"] for s in stats if s["user_id"]])
             .prefetch_related("groups")}
    rows = []
    for s in stats:
        user = users.get(s["user_id"])
        rows.append({
            "staff_number": user.staff_number if user else "",
            "name": user.full_name if user else s["user_label"] + "（削除済み）",
            "groups": ", ".join(g.name for g in user.groups.all()) if user else "",
            "chars": s["chars"] or 0, "prompts": s["prompts"], "blocked": s["blocked"],
            "conversations": s["conversations"], "last_use": s["last_use"],
        })
    return rows


def per_group(month: dt.date) -> list[dict]:
    from django.contrib.auth.models import Group

    rows = []
    for group in Group.objects.order_by("name"):
        members = list(group.user_set.values_list("pk", flat=True))
        agg = UsageRecord.objects.filter(month=month, user_id__in=members).aggregate(
            chars=Sum(F("prompt_chars") + F("answer_chars")),
            prompts=Count("id", filter=Q(status__in=COUNTED)),
            conversations=Count("conversation_id", distinct=True, filter=Q(status__in=COUNTED)),
            last_use=Max("created_at"),
        )
        rows.append({"name": group.name, "members": len(members), "chars": agg["chars"] or 0,
                     "prompts": agg["prompts"], "conversations": agg["conversations"], "last_use": agg["last_use"]})
    return rows
