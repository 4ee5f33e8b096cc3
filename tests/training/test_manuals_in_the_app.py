"""マニュアル in the app: TOC links reach heading ids, admin manual for admins only, search, HTML export."""

import re
from urllib.parse import unquote

import pytest
from django.db import connection

from audit.models import AuditEvent
from tests.training.helpers import as_admin, as_staff
from training.manuals import slugify_heading


def test_headings_get_github_style_slugs():
    assert slugify_heading("停止・再生成・コピー") == "停止再生成コピー"
    assert slugify_heading("生成AIサービスのエラー") == "生成aiサービスのエラー"
    assert slugify_heading("Step 1: CSV（Excel）") == "step-1-csvexcel"


@pytest.mark.parametrize(("path", "who"), [("/learn/manuals/user/", "staff"), ("/learn/manuals/admin/", "admin")])
def test_the_manual_renders_with_a_table_of_contents_whose_links_resolve(client_a, path, who):
    as_admin(client_a) if who == "admin" else as_staff(client_a)
    response = client_a.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    body = html.split('data-testid="manual-body"', 1)[1]
    ids = set(re.findall(r'<h[1-6] id="([^"]+)"', body))
    links = {unquote(link) for link in re.findall(r'href="#([^"]+)"', body)}
    assert len(links) >= 20
    assert links <= ids, sorted(links - ids)
    assert "目次" in ids


def test_the_administrators_manual_is_403_for_a_general_user_and_logged(client_a, tenant_a):
    as_staff(client_a)
    assert client_a.get("/learn/manuals/admin/").status_code == 403
    assert client_a.get("/learn/manuals/admin/export/").status_code == 403
    assert "管理者マニュアル" not in client_a.get("/learn/").content.decode()
    connection.set_tenant(tenant_a)
    assert AuditEvent.objects.filter(action="access.denied", target="/learn/manuals/admin/").exists()


def test_search_lists_the_sections_containing_every_word(client_a):
    as_staff(client_a)
    html = client_a.get("/learn/manuals/user/", {"q": "パスワード 条件"}).content.decode()
    results = html.split('data-testid="search-results"', 1)[1].split("</section>", 1)[0]
    assert 'href="#パスワードの条件"' in results
    assert 'href="#チャットを開く"' not in results
    none = client_a.get("/learn/manuals/user/", {"q": "存在しない語句ぞぞぞ"}).content.decode()
    assert "見つかりませんでした" in none


def test_the_manual_downloads_as_one_self_contained_html_file(client_a):
    as_staff(client_a)
    response = client_a.get("/learn/manuals/user/export/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="akagi-user-manual.html"'
    html = response.content.decode()
    assert html.startswith("<!DOCTYPE html>") and "<style>" in html
    assert 'id="目次"' in html and "<link" not in html and "<script" not in html


def test_the_learning_home_links_tips_board_and_manuals(client_a):
    as_staff(client_a)
    html = client_a.get("/learn/").content.decode()
    for href in ("/learn/tips/", "/learn/board/", "/learn/manuals/user/"):
        assert f'href="{href}"' in html
    assert 'href="/learn/" aria-current="page"' in html
