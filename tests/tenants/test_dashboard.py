"""The operator's 利用状況ダッシュボード: its totals are the municipalities' own records, and it exports them."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest

from tenants.dashboard import month_dashboard
from tenants.models import OperatorAuditEvent, Tenant
from tests.conftest import login
from tests.tenants.test_dashboard_summary import OCTOBER, month_bounds, record_sums, seed_october, summarize_october

OPERATOR = ("PREF-0001", "Unei#Demo2026")


@pytest.fixture
def operator(public_client):
    assert login(public_client, *OPERATOR).status_code == 302
    return public_client


@pytest.fixture
def october(tenant_a, tenant_b):
    seed_october(tenant_a, tenant_b)
    summarize_october()
    start, end = month_bounds()
    return {tenant.slug: record_sums(tenant, start, end) for tenant in (tenant_a, tenant_b)}


def page_totals(html: str) -> dict:
    values = dict(re.findall(r'data-testid="total-([a-z-]+)" data-value="([^"]*)"', html))
    return {"chars": int(values["chars"]), "prompts": int(values["prompts"]), "cost_yen": Decimal(values["cost"]),
            "blocked": int(values["blocked"]), "masked": int(values["masked"]),
            "user_days": int(values["user-days"]), "month_active": int(values["month-active"])}


def summed(*sums: dict) -> dict:
    return {key: sum((s[key] for s in sums), start=type(sums[0][key])(0)) for key in sums[0]}


def test_the_dashboards_totals_equal_the_sums_of_the_municipalities_usage_records(operator, october):
    expected = summed(october["demo-a"], october["demo-b"])  # demo-c has no usage
    assert expected["chars"] == 600 + 1100 + 30 + 3000 + 100 and expected["blocked"] == 2

    response = operator.get("/console/dashboard/?month=2026-10")
    assert response.status_code == 200
    html = response.content.decode()
    assert page_totals(html) == expected

    from accounts.models import User

    board = month_dashboard(User.objects.get(staff_number="PREF-0001"), OCTOBER)
    totals = board.totals
    assert {"chars": totals.chars, "prompts": totals.prompts, "cost_yen": totals.cost_yen,
            "blocked": totals.blocked, "masked": totals.masked, "user_days": totals.user_days,
            "month_active": totals.month_active_users} == expected
    by_slug = {f.tenant.slug: f for f in board.tenants}
    assert by_slug["demo-a"].chars == october["demo-a"]["chars"]
    assert by_slug["demo-b"].blocked == october["demo-b"]["blocked"]
    pii = {row.key: (row.blocked, row.masked) for row in board.pii}
    assert pii == {"person_name": (1, 1), "phone": (0, 2), "my_number": (1, 0), "banned_word": (1, 0)}
    assert [(row.key, row.count) for row in board.categories] == [("summary", 2), ("minutes", 1), ("unknown", 1)]

    # The chart and its table alternative.
    assert 'role="img"' in html and 'aria-labelledby="chart-title chart-desc"' in html
    assert "10/17 あかぎ市（デモ）：1,100 文字" in html
    assert "マイナンバー（個人番号）" in html and "要約" in html and "削除されたテンプレート" in html
    assert 'href="/console/dashboard/demo-a/?month=2026-10"' in html


def test_the_drill_down_shows_one_municipalitys_figures(operator, october):
    response = operator.get("/console/dashboard/demo-b/?month=2026-10")
    assert response.status_code == 200
    html = response.content.decode()
    assert page_totals(html) == october["demo-b"]
    assert "はるな町（デモ）の利用状況" in html
    assert "あかぎ市" not in html.split("<main", 1)[1]
    assert operator.get("/console/dashboard/no-such-town/").status_code == 404
    assert operator.get("/console/dashboard/public/").status_code == 404


def test_an_empty_month_renders_with_zeros(operator):
    response = operator.get("/console/dashboard/?month=2020-01")
    assert response.status_code == 200
    assert page_totals(response.content.decode())["chars"] == 0
    assert "この月の利用はありません" in response.content.decode()
    assert operator.get("/console/dashboard/").status_code == 200  # this month by default


def test_the_export_contains_every_summarized_row_and_is_audited(operator, october):
    response = operator.get("/console/dashboard/export.csv?month=2026-10")
    assert response.status_code == 200
    assert 'filename="usage-daily-all-2026-10.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert header[:5] == ["日付", "識別子", "利用団体", "文字数", "プロンプト数"]
    assert "個人情報ブロック:マイナンバー（個人番号）" in header and "テンプレート:要約" in header
    municipalities = Tenant.objects.exclude(schema_name="public").count()  # demo-a/b/c and any an e2e test added
    assert len(body) == 31 * municipalities
    chars = header.index("文字数")
    for slug, sums in october.items():
        assert sum(int(r[chars]) for r in body if r[1] == slug) == sums["chars"]
    day3 = next(r for r in body if r[0] == "2026-10-03" and r[1] == "demo-a")
    assert day3[header.index("個人情報マスク:氏名")] == "1"
    event = OperatorAuditEvent.objects.filter(action="export.dashboard").latest("id")
    assert event.target == "usage-daily-all-2026-10" and event.detail["rows"] == 31 * municipalities
    assert event.actor_label.startswith("県 運営担当")

    response = operator.get("/console/dashboard/demo-a/export.xlsx?month=2026-10")
    assert response.status_code == 200
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.values)
    assert len(values) == 1 + 31 and {row[1] for row in values[1:]} == {"demo-a"}
    assert OperatorAuditEvent.objects.filter(action="export.dashboard", target="usage-daily-demo-a-2026-10").exists()
    assert operator.get("/console/dashboard/export.pdf").status_code == 404
