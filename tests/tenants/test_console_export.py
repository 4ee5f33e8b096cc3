"""利用団体一覧 exports the rows on screen (same filter) as CSV for Japanese Excel and as .xlsx; audited."""

import csv
import io

from openpyxl import load_workbook

from tenants.models import OperatorAuditEvent, Tenant
from tests.conftest import login

OPERATOR = ("PREF-0001", "Unei#Demo2026")


def test_the_csv_export_contains_every_municipality_row(public_client):
    login(public_client, *OPERATOR)
    response = public_client.get("/console/export/?format=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="municipalities-')
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")  # Excel on Japanese Windows reads it as UTF-8
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:4] == ["表示名", "識別子", "状態", "研修環境"]
    by_slug = {row[1]: row for row in rows[1:]}
    assert {"demo-a", "demo-b", "demo-c"} <= set(by_slug)
    assert by_slug["demo-a"][0] == "あかぎ市（デモ）" and by_slug["demo-a"][2] == "稼働中"
    assert by_slug["demo-a"][4] == "3" and by_slug["demo-a"][5] == "50" and by_slug["demo-a"][7] == "1000000"
    event = OperatorAuditEvent.objects.filter(action="export.tenants").latest("id")
    assert event.detail["format"] == "csv" and event.detail["rows"] == len(rows) - 1
    assert event.actor_label.startswith("県 運営担当")


def test_the_excel_export_follows_the_filter_on_screen(public_client, tenant_b):
    Tenant.objects.filter(pk=tenant_b.pk).update(is_active=False, name="=HYPERLINK(\"http://x\")町")
    login(public_client, *OPERATOR)
    response = public_client.get("/console/export/?format=xlsx&state=suspended")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.values)
    assert len(values) == 2 and values[1][1] == "demo-b" and values[1][2] == "停止中"
    assert values[1][0].startswith("'=")  # a name cannot run as a formula in the operator's Excel
    assert OperatorAuditEvent.objects.filter(action="export.tenants").latest("id").detail["filters"] == {
        "state": "suspended"}
