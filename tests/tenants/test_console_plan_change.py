"""A plan changed through the console form takes effect at once and is audited with its values before and after."""

from django.db import connection

from accounts.models import User
from tenants.models import MonthlyUsage, OperatorAuditEvent, Tenant
from tests.conftest import login, stub_models
from usage.quota import QuotaExceeded, current_month, reserve

OPERATOR = ("PREF-0001", "Unei#Demo2026")


def _plan_form(tenant: Tenant, **overrides) -> dict:
    form = {
        "seat_cap": "" if tenant.seat_cap is None else str(tenant.seat_cap),
        "monthly_char_cap": str(tenant.monthly_char_cap),
        "monthly_price_cap_yen": "" if tenant.monthly_price_cap_yen is None else str(tenant.monthly_price_cap_yen),
        "allowed_models": list(tenant.allowed_models),
    }
    if tenant.seat_cap is None:
        form["seat_unlimited"] = "on"
    if tenant.is_training:
        form["is_training"] = "on"
    form.update(overrides)
    return form


def test_a_plan_change_through_the_console_updates_the_tenant_and_is_audited(public_client, tenant_b, settings,
                                                                             llm_stub):
    settings.AKAGI_LLM_MODELS = stub_models(llm_stub)
    login(public_client, *OPERATOR)
    page = public_client.get("/console/tenants/demo-b/plan/").content.decode()
    assert "stub-gpt" in page and 'value="1000000"' in page

    response = public_client.post("/console/tenants/demo-b/plan/", _plan_form(
        tenant_b, seat_cap="", seat_unlimited="on", monthly_char_cap="２，５００，０００",
        monthly_price_cap_yen="30000", allowed_models=["stub-gpt"], is_training="on"))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert response["Location"] == "/console/tenants/demo-b/"

    tenant_b.refresh_from_db()
    assert (tenant_b.seat_cap, tenant_b.monthly_char_cap, tenant_b.monthly_price_cap_yen) == (None, 2_500_000, 30000)
    assert (tenant_b.allowed_models, tenant_b.is_training) == (["stub-gpt"], True)
    event = OperatorAuditEvent.objects.filter(action="tenant.plan", target="tenant:demo-b").latest("id")
    assert event.detail["monthly_char_cap"] == {"before": 1_000_000, "after": 2_500_000}
    assert event.detail["seat_cap"] == {"before": 50, "after": None}
    assert event.actor_label.startswith("県 運営担当")

    detail = public_client.get("/console/tenants/demo-b/").content.decode()
    assert "プランを変更しました" in detail and "2,500,000 文字" in detail
    assert "月間文字数の上限: 1,000,000 → 2,500,000" in detail  # this municipality's trail on its page
    audit = public_client.get("/console/audit/?action=tenant.plan").content.decode()
    assert "利用者数の上限: 50 → 無制限" in audit and "tenant:demo-b" in audit


def test_a_cap_below_this_months_use_is_allowed_with_a_warning_and_raising_it_lets_prompts_through(
        public_client, tenant_a):
    login(public_client, *OPERATOR)
    month = current_month()
    MonthlyUsage.objects.update_or_create(tenant=tenant_a, month=month, defaults={"used_chars": 600_000})

    response = public_client.post("/console/tenants/demo-a/plan/",
                                  _plan_form(tenant_a, monthly_char_cap="500000"), follow=True)
    page = response.content.decode()
    assert "今月の使用量（600,000文字）以下です" in page and "新しいプロンプトを受け付けません" in page
    tenant_a.refresh_from_db()
    assert tenant_a.monthly_char_cap == 500_000
    assert "上限に到達" in public_client.get("/").content.decode()

    connection.set_tenant(tenant_a)
    user_id = User.objects.get(staff_number="A002").pk
    try:
        reserve(tenant_id=tenant_a.pk, user_id=user_id, prompt_chars=100, max_answer_chars=500)
    except QuotaExceeded as exc:
        assert exc.scope == "tenant"
    else:
        raise AssertionError("a prompt over the cap must be refused")

    # Raised mid-month: the very next reservation gets through.
    connection.set_schema_to_public()
    public_client.post("/console/tenants/demo-a/plan/", _plan_form(tenant_a, monthly_char_cap="700000"))
    connection.set_tenant(tenant_a)
    reservation = reserve(tenant_id=tenant_a.pk, user_id=user_id, prompt_chars=100, max_answer_chars=500)
    assert reservation.chars == 600
