"""Web pages become documents: fetched safely, main text only, and refused for internal addresses."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection

from rag import ingest
from rag.models import Document
from tests.chat.helpers import logged_in

pytestmark = pytest.mark.django_db

PAGE = """<html><head><meta charset="utf-8"><title>防災情報｜あかぎ市</title></head><body>
<nav id="gnavi"><a href="/">ホーム</a> <a href="/kurashi/">くらし</a></nav>
<main><h1>避難所の一覧</h1><p>大雨のときは、市立第一小学校と市民体育館を避難所として開設します。</p>
<h2>持ち物</h2><p>飲料水、常備薬、懐中電灯を持って避難してください。</p></main>
<footer>Copyright あかぎ市 総務課</footer></body></html>"""


@pytest.fixture
def site():
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = PAGE.encode() if self.path in {"/", "/bousai/"} else b"User-agent: *\nAllow: /\n"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8" if self.path != "/robots.txt"
                             else "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/bousai/"
    server.shutdown()


def _add_url(client, url: str) -> int:
    collection_id = int(client.post("/knowledge/", {"name": "防災"})["Location"].rstrip("/").split("/")[-1])
    client.post(f"/knowledge/{collection_id}/", {"action": "url", "url": url, "depth": "0"})
    return collection_id


def test_a_web_page_is_ingested_without_its_navigation_and_footer(client_a, tenant_a, site, settings):
    settings.AKAGI_RAG_ALLOWED_HOSTS = ["127.0.0.1"]  # the operator's allow-list; the test site is on loopback
    settings.AKAGI_HTTP_PROXY = ""
    staff = logged_in(client_a)
    collection_id = _add_url(staff, site)
    connection.set_tenant(tenant_a)
    document = Document.objects.get(collection_id=collection_id)
    ingest.run(document.pk)
    document.refresh_from_db()
    assert document.state == Document.State.READY, document.error
    assert document.final_url == site and "防災情報" in document.title
    text = " ".join(document.chunks.values_list("text", flat=True))
    assert "市民体育館" in text and "懐中電灯" in text
    assert "Copyright" not in text and "くらし" not in text


def test_an_internal_address_is_refused_unless_the_operator_allows_it(client_a, tenant_a, site, settings):
    settings.AKAGI_RAG_ALLOWED_HOSTS = []
    settings.AKAGI_HTTP_PROXY = ""
    staff = logged_in(client_a)
    collection_id = _add_url(staff, site)
    connection.set_tenant(tenant_a)
    document = Document.objects.get(collection_id=collection_id)
    ingest.run(document.pk)
    document.refresh_from_db()
    assert document.state == Document.State.FAILED
    assert "内部ネットワーク" in document.error
