"""A new month starts at zero at midnight in Japan, not in UTC."""

import datetime as dt

from usage.quota import current_month


def test_the_month_turns_at_midnight_japan_time():
    just_before = dt.datetime(2026, 11, 30, 14, 59, 59, tzinfo=dt.UTC)  # 23:59:59 JST on 30 November
    just_after = dt.datetime(2026, 11, 30, 15, 0, 0, tzinfo=dt.UTC)  # 00:00 JST on 1 December
    assert current_month(just_before) == dt.date(2026, 11, 1)
    assert current_month(just_after) == dt.date(2026, 12, 1)
