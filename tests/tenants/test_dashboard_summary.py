"""The daily usage summary: recomputed from each municipality's own records, never counted twice."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, F, Q, Sum

from audit.models import AuditAnchor, AuditEvent
from audit.services import record
from tenants.crossing import in_tenant
from tenants.models import DailyUsageSummary
from tenants.summary import day_bounds, summarize_all, summarize_day, tokyo_today
from usage.models import UsageRecord
from usage.quota import TOKYO

OCTOBER = dt.date(2026, 10, 1)
S = UsageRecord.Status


def at(day: int, hour: int, minute: int = 0, second: int = 0, *, month: int = 10) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, second, tzinfo=TOKYO)


def usage(when: dt.datetime, staff_number: str, status: str, prompt: int = 0, answer: int = 0,
          cost: str = "0", *, findings: list[str] | None = None, detail_status: str = "complete") -> UsageRecord:
    """A usage record as the pipeline writes it, dated ``when``, with its audit event for a screened prompt."""
    from accounts.models import User

    user = User.objects.get(staff_number=staff_number)
    row = UsageRecord.objects.create(
        month=OCTOBER, user=user, user_label=str(user), status=status, prompt_chars=prompt, answer_chars=answer,
        cost_yen=Decimal(cost), model_name="stub-gpt",
    )
    UsageRecord.objects.filter(pk=row.pk).update(created_at=when)  # created_at is auto_now_add
    if findings is not None:
        action = "prompt.blocked" if status == S.BLOCKED else "prompt.masked"
        detail = {"model": "stub-gpt", "prompt": "【氏名】さんへ", "status": detail_status, "cancelled": False,
                  "findings": [{"type": kind, "start": 0, "end": 2, "action": "mask"} for kind in findings]}
        event = record(action=action, actor=user, target="conversation:1", detail=detail)
        AuditEvent.objects.filter(pk=event.pk).update(created_at=when)
    return row


def template_use(when: dt.datetime, target: str, **detail) -> None:
    event = record(action="prompt_template.use", actor_label="system", target=target, detail=detail)
    AuditEvent.objects.filter(pk=event.pk).update(created_at=when)


def seed_october(tenant_a, tenant_b) -> None:
    """Usage of two municipalities on several days of October 2026, blocked and masked prompts included."""
    from prompts.models import PromptTemplate

    with in_tenant(tenant_a):
        usage(at(3, 10), "A002", S.SENT, 100, 300, "0.8")
        usage(at(3, 11), "A003", S.MASKED, 50, 150, "0.4", findings=["person_name", "phone", "person_name"])
        usage(at(3, 12), "A002", S.BLOCKED, findings=["my_number"])
        usage(at(17, 9), "A001", S.SENT, 200, 800, "2.0")
        usage(at(17, 9, 30), "A002", S.REFUSED)
        usage(at(17, 10), "A002", S.FAILED)
        usage(at(17, 10, 30), "A003", S.CANCELLED, 40, 60, "0.2")
        usage(at(31, 23, 59, 30), "A002", S.SENT, 10, 20, "0.06")  # the last minute of October (JST)
        usage(at(1, 0, 0, 30, month=11), "A002", S.SENT, 5, 5, "0.02")  # reserved in October, counted on 11/1
        summary = PromptTemplate.objects.create(title="要約", body="{{本文}}を要約", category="summary")
        template_use(at(17, 8), f"prompt_template:{summary.pk}")
        template_use(at(17, 8, 5), f"prompt_template:{summary.pk}")
        template_use(at(17, 8, 10), "prompt_template:999999")  # deleted since
        template_use(at(18, 8), "prompt_template:999998", category="minutes")
    with in_tenant(tenant_b):
        usage(at(4, 9), "B002", S.SENT, 1000, 2000, "6.0")
        usage(at(4, 10), "B003", S.BLOCKED, findings=["banned_word", "person_name"])
        # A masked prompt whose answer failed: the record is "failed", so it is not a masked prompt either.
        usage(at(4, 11), "B002", S.FAILED, findings=["phone"], detail_status="failed")
        usage(at(17, 14), "B002", S.MASKED, 30, 70, "0.2", findings=["phone"])


def record_sums(tenant, start: dt.datetime, end: dt.datetime) -> dict:
    """The municipality's own usage records, summed independently of the summary code."""
    with in_tenant(tenant):
        rows = UsageRecord.objects.filter(created_at__gte=start, created_at__lt=end)
        agg = rows.aggregate(
            chars=Sum(F("prompt_chars") + F("answer_chars")), cost_yen=Sum("cost_yen"),
            prompts=Count("id", filter=Q(status__in=[S.SENT, S.MASKED, S.CANCELLED])),
            blocked=Count("id", filter=Q(status=S.BLOCKED)), masked=Count("id", filter=Q(status=S.MASKED)),
        )
        per_day_users = {}
        for row in rows.values("created_at", "user_id"):
            per_day_users.setdefault(row["created_at"].astimezone(TOKYO).date(), set()).add(row["user_id"])
    return {"chars": agg["chars"] or 0, "cost_yen": agg["cost_yen"] or Decimal(0), "prompts": agg["prompts"],
            "blocked": agg["blocked"], "masked": agg["masked"],
            "user_days": sum(len(users) for users in per_day_users.values()),
            "month_active": len(set().union(*per_day_users.values()))}


def month_bounds() -> tuple[dt.datetime, dt.datetime]:
    return day_bounds(OCTOBER)[0], day_bounds(dt.date(2026, 11, 1))[0]


def summarize_october() -> str:
    out = StringIO()
    call_command("usage_summarize", "--month", "2026-10", stdout=out)
    return out.getvalue()


def test_a_days_row_is_recomputed_from_the_tenants_own_records(tenant_a, tenant_b):
    seed_october(tenant_a, tenant_b)
    row = summarize_day(tenant_a, dt.date(2026, 10, 3))
    assert (row.chars, row.prompts, row.blocked, row.masked, row.active_users) == (600, 2, 1, 1, 2)
    assert row.cost_yen == Decimal("1.2")
    # A prompt with two names counts once for 氏名; the blocked prompt counts for its own type.
    assert row.pii_by_type == {"my_number": {"blocked": 1, "masked": 0}, "person_name": {"blocked": 0, "masked": 1},
                               "phone": {"blocked": 0, "masked": 1}}
    # Stock figures are as at the end of the day: the demo staff were registered after October.
    assert (row.users, row.documents, row.collections) == (0, 0, 0)

    row = summarize_day(tenant_a, dt.date(2026, 10, 17))
    assert (row.chars, row.prompts, row.blocked, row.masked, row.active_users) == (1100, 2, 0, 0, 3)
    assert row.template_uses_by_category == {"summary": 2, "unknown": 1}
    assert summarize_day(tenant_a, dt.date(2026, 10, 18)).template_uses_by_category == {"minutes": 1}


def test_a_record_counts_on_its_day_in_tokyo_time(tenant_a, tenant_b):
    seed_october(tenant_a, tenant_b)
    assert summarize_day(tenant_a, dt.date(2026, 10, 31)).chars == 30
    assert summarize_day(tenant_a, dt.date(2026, 11, 1)).chars == 10


def test_a_masked_prompt_whose_answer_failed_is_not_counted_as_masked(tenant_a, tenant_b):
    seed_october(tenant_a, tenant_b)
    row = summarize_day(tenant_b, dt.date(2026, 10, 4))
    assert (row.blocked, row.masked) == (1, 0)
    assert row.pii_by_type == {"banned_word": {"blocked": 1, "masked": 0},
                               "person_name": {"blocked": 1, "masked": 0}}


def test_summarizing_again_replaces_the_rows_instead_of_adding(tenant_a, tenant_b):
    seed_october(tenant_a, tenant_b)
    first_out = summarize_october()
    from tenants.crossing import municipalities

    count = len(municipalities())
    assert f"2026-10-03: {count}団体を集計しました" in first_out
    rows = DailyUsageSummary.objects.filter(day__gte=OCTOBER, day__lt=dt.date(2026, 11, 1))
    before = {(r.tenant_id, r.day): (r.chars, r.prompts, r.blocked, r.masked, r.pii_by_type) for r in rows}
    assert len(before) == 31 * count
    summarize_october()
    summarize_all(dt.date(2026, 10, 3))
    after = {(r.tenant_id, r.day): (r.chars, r.prompts, r.blocked, r.masked, r.pii_by_type) for r in rows.all()}
    assert after == before

    start, end = month_bounds()
    for tenant in (tenant_a, tenant_b):
        sums = record_sums(tenant, start, end)
        last_day = rows.filter(tenant=tenant).order_by("-day").first()
        assert last_day.month_active_users == sums.pop("month_active")
        month = rows.filter(tenant=tenant).aggregate(chars=Sum("chars"), prompts=Sum("prompts"),
                                                     blocked=Sum("blocked"), masked=Sum("masked"),
                                                     cost_yen=Sum("cost_yen"), user_days=Sum("active_users"))
        assert month == sums


def test_a_trail_shortened_by_retention_keeps_the_screening_figures_already_summarized(tenant_a, tenant_b):
    seed_october(tenant_a, tenant_b)
    assert summarize_day(tenant_a, dt.date(2026, 10, 3)).pii_by_type["my_number"] == {"blocked": 1, "masked": 0}
    with in_tenant(tenant_a):
        # As if audit_purge had removed everything up to today's events.
        AuditEvent.objects.filter(created_at__lt=day_bounds(tokyo_today())[0]).update(
            created_at=day_bounds(tokyo_today())[0])
        AuditAnchor.objects.create(purged_through_id=1, purged_through_hash="0" * 64, removed=1)
    row = summarize_day(tenant_a, dt.date(2026, 10, 3))
    assert row.pii_by_type["my_number"] == {"blocked": 1, "masked": 0}
    assert row.chars == 600  # usage figures are still recomputed


def test_the_backfill_command_refuses_bad_dates_and_unknown_tenants(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--month 2026-11"):
        call_command("usage_summarize", "--month", "11月")
    with pytest.raises(CommandError, match="未来"):
        call_command("usage_summarize", "--day", (tokyo_today() + dt.timedelta(days=2)).isoformat())
    with pytest.raises(CommandError, match="登録されていません"):
        call_command("usage_summarize", "--tenant", "public", "--day", "2026-10-03")
    out = StringIO()
    call_command("usage_summarize", "--tenant", "demo-b", "--day", "2026-10-03", stdout=out)
    assert "1団体" in out.getvalue()


def test_the_beat_runs_the_summary_once_in_the_public_schema(db, settings):
    from tenant_schemas_celery.scheduler import TenantAwareSchedulerMixin

    entries = TenantAwareSchedulerMixin._tenant_aware_beat_schedule_to_dict(None, settings.CELERY_BEAT_SCHEDULE)
    summary_entries = {name: e for name, e in entries.items() if e["task"] == "tenants.tasks.summary.summarize_days"}
    assert list(summary_entries) == ["summarize-usage@public"]
    entry = summary_entries["summarize-usage@public"]
    assert entry["options"]["headers"] == {"_schema_name": "public"}
    assert entry["schedule"] <= 15 * 60


def test_the_task_summarizes_today_and_yesterday_for_every_municipality(tenant_a):
    from tenants.crossing import municipalities
    from tenants.tasks.summary import summarize_days

    count = len(municipalities())
    today = tokyo_today()
    done = summarize_days()
    assert done == {(today - dt.timedelta(days=1)).isoformat(): count, today.isoformat(): count}
    assert summarize_days(["2026-10-03"]) == {"2026-10-03": count}
    assert DailyUsageSummary.objects.get(tenant=tenant_a, day=today).users == 3


def test_prompts_screened_by_the_real_pipeline_are_counted_by_type(client_a, stub_llm, tenant_a):
    """The summary reads the findings chat.steps writes into the audit trail: check the two stay in step."""
    from tests.chat.helpers import logged_in, names, send
    from tests.chat.test_screening_in_chat import _my_number

    # Other suites may already have committed today's prompts in demo-a: count what this test adds.
    before = summarize_day(tenant_a, tokyo_today())
    staff = logged_in(client_a)
    assert names(send(staff, f"個人番号は{_my_number('12345678901')}です。"))[0] == "screened"
    prompt = "山田太郎さんへのお礼状を書いてください。"
    assert names(send(staff, prompt))[0] == "screened"  # confirm: held back until the user masks it
    assert names(send(staff, prompt, mask=1))[0] == "start"
    row = summarize_day(tenant_a, tokyo_today())
    assert (row.blocked - before.blocked, row.masked - before.masked, row.prompts - before.prompts) == (2, 1, 1)
    assert row.active_users >= 1

    def added(kind: str, outcome: str) -> int:
        return row.pii_by_type.get(kind, {}).get(outcome, 0) - before.pii_by_type.get(kind, {}).get(outcome, 0)

    assert (added("my_number", "blocked"), added("my_number", "masked")) == (1, 0)
    assert (added("person_name", "blocked"), added("person_name", "masked")) == (1, 1)
    assert row.chars > before.chars
