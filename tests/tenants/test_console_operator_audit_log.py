"""運営者の監査ログ lists the operator trail newest first, page by page, filtered by action and target."""

from audit.services import record
from tests.conftest import login

OPERATOR = ("PREF-0001", "Unei#Demo2026")


def test_the_operator_audit_log_is_newest_first_filterable_and_paginated(public_client):
    for number in range(60):
        record(action="tenant.plan", actor_label="試験", target=f"tenant:town-{number:02d}",
               detail={"monthly_char_cap": {"before": number, "after": number + 1}})
    record(action="tenant.suspend", actor_label="試験", target="tenant:town-99",
           detail={"is_active": {"before": True, "after": False}})
    login(public_client, *OPERATOR)

    page = public_client.get("/console/audit/").content.decode()
    assert page.index("tenant:town-99") < page.index("tenant:town-59") < page.index("tenant:town-58")
    assert "tenant:town-05" not in page  # on the next page
    assert "次へ" in page and "稼働: はい → いいえ" in page

    second = public_client.get("/console/audit/?page=2").content.decode()
    assert "tenant:town-05" in second and "前へ" in second

    only_plans = public_client.get("/console/audit/?action=tenant.plan&target=town-07").content.decode()
    assert "tenant:town-07" in only_plans and "tenant:town-99" not in only_plans
    assert "月間文字数の上限: 7 → 8" in only_plans
    assert "1 件" in only_plans

    # The operator's own log-in is on the trail too.
    assert "ログイン" in public_client.get("/console/audit/?action=login").content.decode()
