"""TIPS: admins write them, everyone reads them, NEW until opened, Markdown rendered inert."""

import re
from datetime import timedelta

from django.db import connection
from django.utils import timezone

from audit.models import AuditEvent
from tests.training.helpers import as_admin, as_staff, user
from training.models import Tip, TipRead


def test_an_admin_creates_edits_and_deletes_a_tip_and_each_step_is_audited(client_a, tenant_a):
    as_admin(client_a)
    form = {"title": "要約のコツ", "body": "**箇条書き**で頼む", "published": "1"}
    response = client_a.post("/learn/tips/new/", form)
    assert response.status_code == 302
    connection.set_tenant(tenant_a)
    tip = Tip.objects.get(title="要約のコツ")
    assert tip.published and tip.published_at is not None
    form = {"title": "要約のコツ（改）", "body": "本文", "published": "1"}
    response = client_a.post(f"/learn/tips/{tip.pk}/edit/", form)
    assert response.status_code == 302
    connection.set_tenant(tenant_a)
    tip.refresh_from_db()
    assert tip.title == "要約のコツ（改）"
    assert client_a.post(f"/learn/tips/{tip.pk}/delete/").status_code == 302
    connection.set_tenant(tenant_a)
    assert not Tip.objects.filter(pk=tip.pk).exists()
    actions = set(AuditEvent.objects.filter(target=f"tip:{tip.pk}").values_list("action", flat=True))
    assert actions == {"training.tip_create", "training.tip_update", "training.tip_delete"}


def test_a_general_user_cannot_create_edit_or_delete_tips(client_a, tenant_a):
    admin = user(tenant_a, "A001")
    tip = Tip.objects.create(title="既存", body="x", author=admin, published=True, published_at=timezone.now())
    as_staff(client_a)
    assert client_a.get("/learn/tips/new/").status_code == 403
    assert client_a.post("/learn/tips/new/", {"title": "勝手に", "body": "x", "published": "1"}).status_code == 403
    assert client_a.post(f"/learn/tips/{tip.pk}/edit/", {"title": "改ざん", "body": "x"}).status_code == 403
    assert client_a.post(f"/learn/tips/{tip.pk}/delete/").status_code == 403
    connection.set_tenant(tenant_a)
    tip.refresh_from_db()
    assert tip.title == "既存"
    assert not Tip.objects.filter(title="勝手に").exists()
    assert AuditEvent.objects.filter(action="access.denied", target=f"/learn/tips/{tip.pk}/delete/").exists()


def test_every_user_reads_published_tips_but_not_drafts(client_a, tenant_a):
    admin = user(tenant_a, "A001")
    published = Tip.objects.create(title="公開中", body="x", author=admin, published=True, published_at=timezone.now())
    draft = Tip.objects.create(title="下書き中", body="x", author=admin)
    as_staff(client_a)
    assert client_a.get(f"/learn/tips/{published.pk}/").status_code == 200
    assert client_a.get(f"/learn/tips/{draft.pk}/").status_code == 404
    assert "下書き中" not in client_a.get("/learn/tips/").content.decode()


def test_a_recent_tip_is_new_until_the_user_opens_it(client_a, tenant_a):
    admin = user(tenant_a, "A001")
    tip = Tip.objects.create(title="新着TIPS", body="x", author=admin, published=True, published_at=timezone.now())
    Tip.objects.create(title="古いTIPS", body="x", author=admin, published=True,
                       published_at=timezone.now() - timedelta(days=15))
    as_staff(client_a)
    page = client_a.get("/learn/tips/").content.decode()
    assert page.count('data-testid="new-badge"') == 1
    assert 'data-testid="new-badge"' in client_a.get("/learn/").content.decode()
    client_a.get(f"/learn/tips/{tip.pk}/")
    connection.set_tenant(tenant_a)
    assert TipRead.objects.filter(tip=tip, user__staff_number="A002").exists()
    assert 'data-testid="new-badge"' not in client_a.get("/learn/tips/").content.decode()
    # Another user has not opened it yet.
    client_a.logout()
    as_staff(client_a, ("A003", "Shokuin#Demo2026"))
    assert client_a.get("/learn/tips/").content.decode().count('data-testid="new-badge"') == 1


def test_script_and_html_in_a_tip_are_inert(client_a, tenant_a):
    admin = user(tenant_a, "A001")
    tip = Tip.objects.create(
        title="<script>alert('t')</script>", author=admin, published=True, published_at=timezone.now(),
        body="<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n[x](javascript:alert(3))",
    )
    as_staff(client_a)
    html = client_a.get(f"/learn/tips/{tip.pk}/").content.decode()
    assert "<script>alert" not in html
    assert not re.search(r"<img[^>]*onerror", html)
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    assert 'href="javascript:' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_tip_images_only_come_from_our_own_uploads(client_a, tenant_a):
    admin = user(tenant_a, "A001")
    tip = Tip.objects.create(
        title="画像", author=admin, published=True, published_at=timezone.now(),
        body="![外部](http://evil/x.png)\n\n![自前](/learn/images/7/)\n\n![データ](data:image/png;base64,AAAA)",
    )
    as_staff(client_a)
    html = client_a.get(f"/learn/tips/{tip.pk}/").content.decode()
    assert "evil" not in html
    assert "data:image" not in html
    assert '<img src="/learn/images/7/"' in html
