"""Reads of usage: the counters shown to staff and administrators."""

from __future__ import annotations

from typing import Any

from tenants.models import MonthlyUsage
from usage.models import UsageSettings, UserMonthlyUsage
from usage.quota import current_month


def counters_for(tenant, user) -> dict[str, Any]:
    month = current_month()
    tenant_used, tenant_cost = (
        MonthlyUsage.objects.filter(tenant_id=tenant.pk, month=month).values_list("used_chars", "cost_yen").first()
        or (0, 0)
    )
    user_used = (
        UserMonthlyUsage.objects.filter(user_id=user.pk, month=month).values_list("used_chars", flat=True).first()
        or 0
    )
    from tenants.models import Tenant

    # Read fresh: the operator may have changed the plan a moment ago.
    cap, price_cap = Tenant.objects.filter(pk=tenant.pk).values_list(
        "monthly_char_cap", "monthly_price_cap_yen").first() or (tenant.monthly_char_cap, None)
    return {
        "month": f"{month:%Y年%-m月}",
        "tenant_used": tenant_used,
        "tenant_cap": cap,
        "tenant_percent": min(100, round(100 * tenant_used / cap)) if cap else 100,
        "tenant_cost": round(float(tenant_cost), 2),  # counters travel as JSON in the chat stream
        "price_cap": price_cap,
        "price_percent": (min(100, round(100 * tenant_cost / price_cap)) if price_cap else 100)
        if price_cap is not None else None,
        "user_used": user_used,
        "user_limit": UsageSettings.load().per_user_monthly_limit,
    }
