"""グループと権限 and 利用状況."""

from django.contrib.auth.models import Group
from django.db import connection

from accounts.models import User
from audit.models import AuditEvent
from tests.chat.helpers import first, logged_in, send
from tests.conftest import login


def test_a_group_limits_the_models_its_members_may_use(client_a, tenant_a, settings, llm_stub):
    from tests.conftest import stub_models

    mini = llm_stub.model_config("stub-mini", "openai_compatible", deployment="stub-mini", max_output_chars=400)
    settings.AKAGI_LLM_MODELS = [*stub_models(llm_stub), mini]
    admin = client_a
    login(admin, "A001", "Kanri#Demo2026")
    admin.post("/manage/groups/", {"name": "市民課", "description": "窓口"})
    connection.set_tenant(tenant_a)
    group = Group.objects.get(name="市民課")
    sato = User.objects.get(staff_number="A002")
    connection.set_schema_to_public()
    admin.post(f"/manage/groups/{group.pk}/", {"description": "窓口", "allowed_models": ["stub-mini"],
                                               "members": [sato.pk], "can_share_templates": "on"})
    admin.post("/accounts/logout/")

    staff = logged_in(admin)
    page = staff.get("/chat/").content.decode()
    assert "stub-mini" in page and 'value="stub-gpt"' not in page
    events = send(staff, "挨拶文を作って", model="stub-gpt")
    assert events[0][0] == "error" and "利用が認められていません" in events[0][1]["message"]
    assert first(send(staff, "挨拶文を作って", model="stub-mini"), "done")["status"] == "complete"
    connection.set_tenant(tenant_a)
    assert AuditEvent.objects.filter(action="group.update", target="group:市民課").exists()


def test_usage_shows_this_month_per_day_per_user_and_exports_csv_with_formula_cells_neutralised(
        client_a, tenant_a, stub_llm):
    staff = logged_in(client_a)
    stub_llm.set_behaviour(answer="回答" * 10)
    send(staff, "=HYPERLINK(\"http://example.com\") 資料を要約して")
    staff.post("/accounts/logout/")
    login(client_a, "A001", "Kanri#Demo2026")
    page = client_a.get("/manage/usage/").content.decode()
    assert 'data-testid="usage-chart"' in page and "<rect" in page
    assert "佐藤 花子" in page
    live = client_a.get("/manage/usage/live/").content.decode()
    assert "自動更新" in live
    csv = client_a.get("/manage/usage/export/", {"kind": "users", "format": "csv"})
    text = csv.content.decode("utf-8")
    assert text.startswith("\ufeff職員番号,氏名")
    assert "A002,佐藤 花子" in text
    xlsx = client_a.get("/manage/usage/export/", {"kind": "groups", "format": "xlsx"})
    assert xlsx.content[:2] == b"PK"
    connection.set_tenant(tenant_a)
    assert AuditEvent.objects.filter(action="export.usage").count() == 2
