"""Reads of usage: the counters shown to staff and administrators."""

from __future__ import annotations

from typing import Any

from tenants.models import MonthlyUsage
from usage.models import UsageSettings, UserMonthlyUsage
from usage.quota import current_month


def counters_for(tenant, user) -> dict[str, Any]:
    month = current_month()
    tenant_used = (
        MonthlyUsage.objects.filter(tenant_id=tenant.pk, month=month).values_list("used_chars", flat=True).first()
        or 0
    )
    user_used = (
        UserMonthlyUsage.objects.filter(user_id=user.pk, month=month).values_list("used_chars", flat=True).first()
        or 0
    )
    cap = tenant.monthly_char_cap
    from tenants.models import Tenant

    cap = Tenant.objects.filter(pk=tenant.pk).values_list("monthly_char_cap", flat=True).first() or cap
    return {
        "month": f"{month:%Y年%-m月}",
        "tenant_used": tenant_used,
        "tenant_cap": cap,
        "tenant_percent": min(100, round(100 * tenant_used / cap)) if cap else 100,
        "user_used": user_used,
        "user_limit": UsageSettings.load().per_user_monthly_limit,
    }
