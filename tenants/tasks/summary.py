"""Tasks: the daily usage summary the operator's dashboard reads (beat: every 15 minutes, in the public schema)."""

from __future__ import annotations

import datetime as dt

from config.celery import app
from tenants import summary


@app.task(name="tenants.tasks.summary.summarize_days")
def summarize_days(days: list[str] | None = None) -> dict[str, int]:
    """Recompute the given ISO days for every municipality, or (no days: the beat) yesterday and today."""
    if not days:
        return summary.summarize_recent()
    return {day: len(summary.summarize_all(dt.date.fromisoformat(day))) for day in days}
