"""The administrator's usage figures add up to what the municipality's counter was charged."""

import pytest
from django.db import connection

from usage.models import UsageRecord
from usage.quota import current_month
from usage.stats import per_day, per_user

pytestmark = pytest.mark.django_db


def test_the_partial_answer_of_a_broken_stream_is_counted_but_not_as_a_prompt(tenant_a):
    connection.set_tenant(tenant_a)
    month = current_month()
    before_chars = sum(point.chars for point in per_day(month))
    before_prompts = sum(point.prompts for point in per_day(month))
    UsageRecord.objects.create(month=month, user_label="test", status=UsageRecord.Status.FAILED,
                               prompt_chars=10, answer_chars=50)
    UsageRecord.objects.create(month=month, user_label="test", status=UsageRecord.Status.REFUSED)

    assert sum(point.chars for point in per_day(month)) == before_chars + 60
    assert sum(point.prompts for point in per_day(month)) == before_prompts
    row = next(r for r in per_user(month) if r["name"] == "test（削除済み）")
    assert row["chars"] == 60 and row["prompts"] == 0
