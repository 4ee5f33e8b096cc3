"""Changes to a municipality's usage settings."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from audit.services import record
from usage.models import UsageSettings


def set_per_user_limit(*, limit: int | None, actor, request=None) -> UsageSettings:
    if limit is not None and limit < 1:
        raise ValidationError("1人あたりの上限は1文字以上にするか、空欄（上限なし）にしてください。")
    with transaction.atomic():
        row = UsageSettings.load()
        before = row.per_user_monthly_limit
        row.per_user_monthly_limit = limit
        row.save()
        record(action="settings.per_user_limit", actor=actor, target="usage_settings",
               detail={"before": before, "after": limit}, request=request)
    return row
