"""県からのお知らせ: written in the operator console, shown in the targeted municipalities' header and learning area."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from tenants import announcements
from tenants.models import Announcement, OperatorAuditEvent, Tenant
from tests.conftest import HOST_A, HOST_B, login

OPERATOR = ("PREF-0001", "Unei#Demo2026")
FORMAT = "%Y-%m-%dT%H:%M"


def _local(delta: dt.timedelta = dt.timedelta()) -> str:
    return timezone.localtime(timezone.now() + delta).strftime(FORMAT)


@pytest.fixture
def operator(public_client) -> Client:
    assert login(public_client, *OPERATOR).status_code == 302
    return public_client


def _staff(host: str, prefix: str) -> Client:
    client = Client(HTTP_HOST=host)
    assert login(client, f"{prefix}002", "Shokuin#Demo2026").status_code == 302
    return client


def _post(operator: Client, **fields) -> object:
    data = {"title": "", "body": "", "starts_at": _local(-dt.timedelta(hours=1)), "ends_at": "", "for_all": "on"}
    data.update(fields)
    data = {k: v for k, v in data.items() if v is not None}
    return operator.post("/console/announcements/new/", data)


def _header(html: str) -> str:
    return html.split("<header", 1)[1].split("</header>", 1)[0]


def _shown_everywhere(client: Client, title: str) -> tuple[bool, bool, bool]:
    header = _header(client.get("/chat/").content.decode())
    learn = client.get("/learn/").content.decode().split('data-testid="home-announcements"', 1)[1]
    page = client.get("/learn/announcements/").content.decode().split("<main", 1)[1]
    return title in header, title in learn.split("</section>", 1)[0], title in page


def test_an_announcement_for_all_appears_in_every_municipalitys_header_and_learning_area(operator):
    response = _post(operator, title="年度末のメンテナンスについて", body="3月31日は **18時** に停止します。")
    assert response.status_code == 302 and response["Location"] == "/console/announcements/"
    announcement = Announcement.objects.get(title="年度末のメンテナンスについて")
    assert announcement.for_all and announcement.created_by_label

    for host, prefix in ((HOST_A, "A"), (HOST_B, "B")):
        client = _staff(host, prefix)
        assert _shown_everywhere(client, "年度末のメンテナンスについて") == (True, True, True)
        header = _header(client.get("/").content.decode())
        assert f'href="/learn/announcements/#announcement-{announcement.pk}"' in header
        page = client.get("/learn/announcements/").content.decode()
        assert "<strong>18時</strong>" in page  # the Markdown body is rendered


def test_an_announcement_for_demo_a_only_is_not_shown_in_demo_b(operator, tenant_a):
    response = _post(operator, title="あかぎ市だけへの連絡", for_all=None, tenants=[str(tenant_a.pk)])
    assert response.status_code == 302
    announcement = Announcement.objects.get(title="あかぎ市だけへの連絡")
    assert list(announcement.tenants.all()) == [tenant_a]

    assert _shown_everywhere(_staff(HOST_A, "A"), "あかぎ市だけへの連絡") == (True, True, True)
    assert _shown_everywhere(_staff(HOST_B, "B"), "あかぎ市だけへの連絡") == (False, False, False)


def test_outside_its_period_an_announcement_is_not_shown(operator, tenant_a):
    assert _post(operator, title="来週からのお知らせ", starts_at=_local(dt.timedelta(days=7))).status_code == 302
    assert _post(operator, title="終わったお知らせ", starts_at=_local(-dt.timedelta(days=7)),
                 ends_at=_local(-dt.timedelta(days=1))).status_code == 302
    client = _staff(HOST_A, "A")
    assert _shown_everywhere(client, "来週からのお知らせ") == (False, False, False)
    assert _shown_everywhere(client, "終わったお知らせ") == (False, False, False)
    listing = operator.get("/console/announcements/").content.decode()
    assert "掲載予定" in listing and "掲載終了" in listing


def test_the_cached_list_still_honours_the_period_to_the_minute(tenant_a):
    now = timezone.now()
    soon = Announcement.objects.create(title="まもなく", starts_at=now + dt.timedelta(seconds=30),
                                       ends_at=now + dt.timedelta(minutes=10))
    announcements.invalidate_cache()
    assert announcements.current_for(tenant_a, now=now) == []  # cached now, with the one starting soon
    Announcement.objects.filter(pk=soon.pk).update(title="キャッシュ外で変更")
    later = announcements.current_for(tenant_a, now=now + dt.timedelta(seconds=31))
    assert [n.title for n in later] == ["まもなく"]  # served from the cache, yet shown once it starts
    assert announcements.current_for(tenant_a, now=now + dt.timedelta(minutes=11)) == []


def test_a_municipality_reads_announcements_from_the_public_schema(tenant_a):
    Announcement.objects.create(title="公開スキーマの行", starts_at=timezone.now())
    connection.set_tenant(tenant_a)
    with connection.cursor() as cursor:
        cursor.execute("SHOW search_path")
        path = cursor.fetchone()[0]
        cursor.execute("SELECT to_regclass('tenants_announcement')::text")
        table = cursor.fetchone()[0]
    assert "public" in path and tenant_a.schema_name in path
    assert table == "tenants_announcement"  # no table of that name in the tenant's own schema
    assert Announcement.objects.filter(title="公開スキーマの行").exists()


def test_script_in_the_body_or_title_is_inert(operator):
    body = ('<script>alert("x")</script>\n\n[押してください](javascript:alert(1))\n\n'
            '<img src=x onerror=alert(1)>\n\n- 項目')
    assert _post(operator, title='<b onmouseover="alert(1)">注意</b>', body=body).status_code == 302
    client = _staff(HOST_A, "A")
    for path in ("/", "/learn/", "/learn/announcements/"):
        html = client.get(path).content.decode()
        assert "&lt;b onmouseover=&quot;alert(1)&quot;&gt;注意&lt;/b&gt;" in html
        assert '<b onmouseover' not in html
    page = client.get("/learn/announcements/").content.decode()
    body_html = page.split('data-testid="announcement-body">', 1)[1].split("</div>", 1)[0]
    assert "<script" not in body_html and "&lt;script&gt;" in body_html
    assert 'href="javascript' not in body_html and "<img" not in body_html  # shown as text, never as markup
    assert "&lt;img src=x onerror=alert(1)&gt;" in body_html and "<li>項目</li>" in body_html


@pytest.mark.parametrize(("who", "password"), [("A001", "Kanri#Demo2026"), ("A002", "Shokuin#Demo2026")])
def test_tenant_users_and_admins_cannot_reach_the_console_pages(client_a, who, password):
    login(client_a, who, password)
    item = Announcement.objects.create(title="運営だけが編集", starts_at=timezone.now())
    for path in ("/console/announcements/", "/console/announcements/new/",
                 f"/console/announcements/{item.pk}/edit/", f"/console/announcements/{item.pk}/delete/"):
        assert client_a.get(path).status_code == 404
    assert client_a.post("/console/announcements/new/", {"title": "なりすまし"}).status_code == 404
    assert client_a.post(f"/console/announcements/{item.pk}/delete/").status_code == 404
    assert Announcement.objects.filter(pk=item.pk).exists()
    assert not Announcement.objects.filter(title="なりすまし").exists()


def test_an_anonymous_visitor_of_the_operator_host_is_sent_to_log_in(public_client):
    response = public_client.get("/console/announcements/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_creating_editing_and_deleting_are_in_the_operator_audit_log(operator, tenant_b):
    assert _post(operator, title="監査される連絡").status_code == 302
    announcement = Announcement.objects.get(title="監査される連絡")
    created = OperatorAuditEvent.objects.get(action="announcement.create", target=f"announcement:{announcement.pk}")
    assert created.actor_label and created.detail["title"] == "監査される連絡" and created.detail["for_all"] is True

    form = operator.get(f"/console/announcements/{announcement.pk}/edit/").content.decode()
    assert 'value="監査される連絡"' in form
    response = operator.post(f"/console/announcements/{announcement.pk}/edit/", {
        "title": "監査される連絡（訂正）", "body": "", "starts_at": _local(-dt.timedelta(hours=1)),
        "tenants": [str(tenant_b.pk)],
    })
    assert response.status_code == 302
    updated = OperatorAuditEvent.objects.get(action="announcement.update")
    assert updated.detail["tenants"] == ["demo-b"] and updated.detail["for_all"] is False

    confirm = operator.get(f"/console/announcements/{announcement.pk}/delete/")
    assert confirm.status_code == 200 and "削除する" in confirm.content.decode()
    assert Announcement.objects.filter(pk=announcement.pk).exists()  # GET only asks
    assert operator.post(f"/console/announcements/{announcement.pk}/delete/").status_code == 302
    assert not Announcement.objects.filter(pk=announcement.pk).exists()
    assert OperatorAuditEvent.objects.filter(action="announcement.delete",
                                             target=f"announcement:{announcement.pk}").exists()


def test_a_deleted_announcement_leaves_the_header_at_once(operator):
    assert _post(operator, title="すぐ消す連絡").status_code == 302
    client = _staff(HOST_A, "A")
    assert "すぐ消す連絡" in _header(client.get("/").content.decode())  # now cached for demo-a
    announcement = Announcement.objects.get(title="すぐ消す連絡")
    operator.post(f"/console/announcements/{announcement.pk}/delete/")
    assert "すぐ消す連絡" not in _header(client.get("/").content.decode())


@pytest.mark.parametrize(("fields", "message"), [
    ({"title": "  "}, "件名を入力してください。"),
    ({"title": "期間の誤り", "starts_at": _local(dt.timedelta(days=2)), "ends_at": _local(dt.timedelta(days=1))},
     "掲載終了は掲載開始より後の日時にしてください"),
    ({"title": "対象なし", "for_all": None}, "対象の利用団体を1つ以上選ぶか"),
    ({"title": "開始なし", "starts_at": ""}, "掲載開始の日時を入力してください。"),
    ({"title": "日付の誤り", "starts_at": "来週"}, "掲載開始の日時を「2026-04-01 09:00」の形で入力してください。"),
])
def test_the_form_explains_mistakes_in_japanese(operator, fields, message):
    before = Announcement.objects.count()
    response = _post(operator, **{"title": "x", **fields})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="form-errors"' in html and message in html
    assert Announcement.objects.count() == before


def test_every_mistake_is_listed_at_once(operator):
    response = _post(operator, title="", for_all=None, starts_at=_local(dt.timedelta(days=2)),
                     ends_at=_local(dt.timedelta(days=1)))
    html = response.content.decode()
    for message in ("件名を入力してください。", "掲載終了は掲載開始より後の日時にしてください",
                    "対象の利用団体を1つ以上選ぶか"):
        assert message in html


def test_the_service_refuses_to_write_from_a_municipality(tenant_a):
    from django.core.exceptions import PermissionDenied

    connection.set_tenant(tenant_a)
    with pytest.raises(PermissionDenied):
        announcements.create_announcement(actor=None, title="市から", starts_at=timezone.now())


def test_the_public_host_shows_no_banner(operator):
    assert _post(operator, title="運営画面には出ない").status_code == 302
    assert 'data-testid="announcement-banner"' not in operator.get("/console/announcements/").content.decode()
    assert Tenant.objects.get(schema_name="public").is_public
