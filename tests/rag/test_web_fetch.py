"""fetch_page against real HTTP servers on 127.0.0.1: main text, encodings, redirects, caps, proxies, refusals.

127.0.0.1 is loopback, so the positive cases allow it explicitly (``allow_hosts`` or the setting); without that
the very same fetch is refused before any request. Names like www.city.example.lg.jp answer from the fake
resolver; the network guard refuses (and records) any connection to a non-loopback address.
"""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from rag.web import BLOCKED_MESSAGE, FetchedFile, FetchedPage, FetchError, fetch_page
from tests.rag import test_web_support as support
from tests.rag.test_web_support import endless, slow

# Fixtures shared by the rag.web tests (tests/rag/conftest.py belongs to the parsing tests).
clean_settings = support.clean_settings
dns = support.dns
site = support.site
sites = support.sites

pytestmark = pytest.mark.usefixtures("clean_settings")

LOCAL = ("127.0.0.1",)
CITY = "www.city.example.lg.jp"

MUNICIPAL_PAGE = """<!DOCTYPE html>
<html lang="ja"><head><meta charset="utf-8"><title>ごみの出し方｜前橋市</title></head>
<body>
<p class="skip"><a href="#tmp_contents">本文へ移動</a></p>
<div id="tmp_header"><p id="tmp_hlogo"><a href="/">前橋市</a></p>
  <div id="tmp_means"><ul><li>文字サイズ</li><li>拡大</li><li>標準</li></ul></div>
  <form action="/search"><input name="q"><button>検索</button></form></div>
<div id="tmp_gnavi"><ul><li><a href="/kurashi/">くらし・手続き</a></li>
  <li><a href="/kenko/">健康・福祉</a></li></ul></div>
<div id="tmp_pankuzu"><a href="/">ホーム</a> &gt; <a href="/kurashi/">くらし</a> &gt; ごみの出し方</div>
<div id="tmp_wrap_main">
 <div id="tmp_main"><div id="tmp_contents">
  <h1>ごみの出し方</h1>
  <p>燃やすごみは、
  月曜日と木曜日の朝8時までに出してください。</p>
  <h2>資源ごみ</h2>
  <p>びん・缶は第2・第4水曜日です。</p>
  <table><tr><th>品目</th><th>収集日</th></tr><tr><td>びん</td><td>水曜日</td></tr></table>
  <h3>注意事項</h3>
  <ul><li>指定袋を使ってください。</li></ul>
  <p><a href="/kurashi/gomi/calendar.pdf">収集カレンダー（PDF）</a></p>
  <div class="pagetop"><a href="#top">このページの先頭へ</a></div>
 </div></div>
 <div id="tmp_side"><h2>このカテゴリの情報</h2><ul><li><a href="/kurashi/sodai.html">粗大ごみ</a></li></ul></div>
</div>
<div id="tmp_footer"><p>前橋市役所 〒371-8601 群馬県前橋市大手町二丁目12番1号</p>
<p><a href="https://www.pref.example.lg.jp/">県のサイト</a></p><p class="copyright">Copyright Maebashi City</p></div>
<script>var tracking = "should never appear";</script>
</body></html>"""


def test_the_main_text_comes_without_navigation_header_footer_or_scripts(site):
    site.route("/kurashi/gomi/", MUNICIPAL_PAGE)
    page = fetch_page(site.url("/kurashi/gomi/#section"), allow_hosts=LOCAL)

    assert isinstance(page, FetchedPage)
    assert page.final_url == site.url("/kurashi/gomi/")
    assert page.status == 200 and page.content_type == "text/html" and page.encoding == "utf-8"
    assert page.title == "ごみの出し方｜前橋市"
    assert isinstance(page.fetched_at, datetime) and page.fetched_at.tzinfo is not None
    assert page.text_sections == [
        (["ごみの出し方"], "燃やすごみは、月曜日と木曜日の朝8時までに出してください。"),
        (["ごみの出し方", "資源ごみ"], "びん・缶は第2・第4水曜日です。\n品目 | 収集日\nびん | 水曜日"),
        (["ごみの出し方", "資源ごみ", "注意事項"], "指定袋を使ってください。\n収集カレンダー（PDF）"),
    ]
    for furniture in ("くらし・手続き", "ホーム", "文字サイズ", "検索", "本文へ移動", "このページの先頭へ",
                      "粗大ごみ", "大手町", "Copyright", "tracking"):
        assert furniture not in page.text
    # Links come from the whole page (navigation is how a crawl finds pages), same host only, fragments dropped.
    assert page.links == [
        site.url("/"),
        site.url("/kurashi/"),
        site.url("/kenko/"),
        site.url("/kurashi/gomi/calendar.pdf"),
        site.url("/kurashi/sodai.html"),
    ]
    assert page.external_links == ["https://www.pref.example.lg.jp/"]
    assert site.requests[0].headers["User-Agent"].startswith("Mozilla/5.0 (compatible; AkagiBot/")
    assert site.requests[0].path == "/kurashi/gomi/"  # the fragment is never sent


def test_loopback_is_refused_without_the_allow_list_and_nothing_is_requested(site):
    site.route("/", MUNICIPAL_PAGE)
    with pytest.raises(FetchError) as caught:
        fetch_page(site.url("/"))
    assert caught.value.code == "blocked_address"
    assert caught.value.user_message == BLOCKED_MESSAGE
    assert site.requests == []


def test_the_operator_allow_list_setting_admits_a_cidr(site, settings):
    site.route("/", MUNICIPAL_PAGE)
    settings.AKAGI_RAG_ALLOWED_HOSTS = ["127.0.0.0/8"]
    assert fetch_page(site.url("/")).title == "ごみの出し方｜前橋市"


JAPANESE = "<html><head>{meta}<title>お知らせ</title></head><body><h1>住民税の申告</h1><p>{text}</p></body></html>"
TEXT = "申告書は市役所２階の市民税課へ提出してください。郵送も受け付けます。"


@pytest.mark.parametrize(
    ("encoding", "content_type", "meta"),
    [
        ("cp932", "text/html; charset=Shift_JIS", ""),  # declared by HTTP
        ("cp932", "text/html", '<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">'),
        ("euc_jp", "text/html", '<meta charset="EUC-JP">'),  # declared by <meta> only
        ("euc_jp", "text/html; charset=euc-jp", ""),
        ("cp932", "text/html", ""),  # undeclared: detected
        ("euc_jp", "text/html", ""),
        ("cp932", "text/html; charset=ISO-8859-1", ""),  # a server default that is wrong for Japanese pages
        ("utf-8", "text/html", '<meta charset="Shift_JIS">'),  # a stale declaration left by a CMS migration
        ("cp932", "text/html; charset=Shift_JIS", '<meta charset="utf-8">'),  # HTTP wins over <meta>
    ],
)
def test_japanese_encodings(site, encoding, content_type, meta):
    site.route("/", JAPANESE.format(meta=meta, text=TEXT).encode(encoding), content_type=content_type)
    page = fetch_page(site.url("/"), allow_hosts=LOCAL)
    assert page.title == "お知らせ"
    assert page.text_sections == [(["住民税の申告"], TEXT)]


def test_nec_special_characters_in_shift_jis_and_euc_jp(site):
    text = "①説明会は㈱前橋の会議室で行います。"
    site.route("/sjis", JAPANESE.format(meta="", text=text).encode("cp932"), content_type="text/html")
    site.route("/euc", JAPANESE.format(meta="", text=text).encode("euc_jis_2004"), content_type="text/html")
    assert fetch_page(site.url("/sjis"), allow_hosts=LOCAL).text_sections[0][1] == text
    assert fetch_page(site.url("/euc"), allow_hosts=LOCAL).text_sections[0][1] == text


def redirect(to: str, status: int = 302) -> dict:
    return {"status": status, "headers": {"Location": to}}


def test_redirects_are_followed_and_the_final_url_recorded(site):
    site.route("/old", b"", **redirect("/middle", 301))
    site.route("/middle", b"", **redirect(site.url("/new/"), 307))
    site.route("/new/", MUNICIPAL_PAGE)
    page = fetch_page(site.url("/old"), allow_hosts=LOCAL)
    assert page.final_url == site.url("/new/")
    assert page.redirects == [site.url("/old"), site.url("/middle")]
    assert page.url == site.url("/old")


def test_more_than_five_redirects_fail(site):
    for hop in range(7):
        site.route(f"/r{hop}", b"", **redirect(f"/r{hop + 1}"))
    site.route("/r7", MUNICIPAL_PAGE)
    with pytest.raises(FetchError) as caught:
        fetch_page(site.url("/r0"), allow_hosts=LOCAL)
    assert caught.value.code == "too_many_redirects"
    assert "上限 5 回" in caught.value.user_message
    assert site.paths() == ["/r0", "/r1", "/r2", "/r3", "/r4", "/r5"]
    site.route("/loop", b"", **redirect("/loop"))
    with pytest.raises(FetchError):
        fetch_page(site.url("/loop"), allow_hosts=LOCAL)


@pytest.mark.parametrize(
    ("target", "code"),
    [
        ("http://127.0.0.1:{port}/secret", "blocked_address"),
        ("http://localhost:{port}/secret", "blocked_address"),
        ("http://2130706433:{port}/secret", "blocked_address"),
        ("http://[::1]:{port}/secret", "blocked_address"),
        ("http://[::ffff:127.0.0.1]:{port}/secret", "blocked_address"),
        ("http://10.0.0.1/", "blocked_address"),
        ("http://192.168.1.1/admin", "blocked_address"),
        ("http://intranet.example.com/", "blocked_address"),  # resolves to 172.16.0.5
        ("http://169.254.169.254/latest/meta-data/iam/security-credentials/", "metadata_address"),
        ("http://[fd00:ec2::254]/latest/meta-data/", "metadata_address"),
        ("file:///etc/passwd", "bad_scheme"),
        ("gopher://127.0.0.1:6379/_INFO", "bad_scheme"),
        ("http://admin:pw@{city}:{port}/", "credentials"),
    ],
)
def test_a_redirect_from_an_allowed_host_to_an_internal_address_is_refused(site, dns, no_network, target, code):
    dns.table[CITY] = ["127.0.0.1"]
    dns.table["localhost"] = ["127.0.0.1", "::1"]
    dns.table["intranet.example.com"] = ["172.16.0.5"]
    site.route("/go", b"", **redirect(target.format(port=site.port, city=CITY)))
    site.route("/secret", "<h1>secret</h1><p>internal only</p>")

    with pytest.raises(FetchError) as caught:
        fetch_page(f"http://{CITY}:{site.port}/go", allow_hosts=[CITY])  # the name is allowed, not the address

    assert caught.value.code == code
    assert site.paths() == ["/go"]  # the redirect target was never requested
    assert site.requests[0].host == f"{CITY}:{site.port}"  # the allowed name reached our server as its Host
    assert no_network == []  # and nothing outside loopback was even attempted


def test_a_page_on_an_allowed_name_is_fetched_through_the_checked_address(site, dns, no_network):
    """DNS rebinding: the name answers 127.0.0.1 once, then an internal address. Only the first answer is used."""
    answers = iter([["127.0.0.1"]])
    dns.table["rebind.example.com"] = lambda: next(answers, ["10.0.0.7"])
    site.route("/", MUNICIPAL_PAGE)

    page = fetch_page(f"http://rebind.example.com:{site.port}/", allow_hosts=["127.0.0.1/32"])

    assert page.final_url == f"http://rebind.example.com:{site.port}/"
    assert dns.lookups_of("rebind.example.com") == 1  # resolved once; httpx was handed the address
    assert site.requests[0].host == f"rebind.example.com:{site.port}"
    assert no_network == []
    with pytest.raises(FetchError) as caught:  # a second fetch sees the new, internal answer and refuses
        fetch_page(f"http://rebind.example.com:{site.port}/", allow_hosts=["127.0.0.1/32"])
    assert caught.value.code == "blocked_address"
    assert len(site.requests) == 1


def test_cookies_are_not_kept_between_requests(site):
    site.route("/login", b"", status=302, headers={"Location": "/next", "Set-Cookie": "session=abc; Path=/"})
    site.route("/next", MUNICIPAL_PAGE)
    fetch_page(site.url("/login"), allow_hosts=LOCAL)
    assert "Cookie" not in site.requests[1].headers


def test_a_declared_huge_page_is_refused_before_reading(site):
    site.route("/huge", slow([b"<p>x</p>"] * 100, 0.1), headers={"Content-Length": "50000000"})
    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        fetch_page(site.url("/huge"), allow_hosts=LOCAL)
    assert caught.value.code == "too_large"
    assert caught.value.user_message == "ページが大きすぎるため取得を中止しました（上限 10 MB）。"
    assert time.monotonic() - started < 2


def test_a_page_that_never_ends_is_cut_at_the_size_cap(site):
    site.route("/endless", endless())
    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        fetch_page(site.url("/endless"), allow_hosts=LOCAL, max_bytes=2_000_000)
    assert caught.value.code == "too_large"
    assert "上限 2 MB" in caught.value.user_message
    assert time.monotonic() - started < 10


def test_a_page_that_trickles_forever_hits_the_time_cap(site):
    site.route("/slow", slow(iter(lambda: b"<p>.</p>", None), 0.2))  # a chunk every 0.2 s, forever
    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        fetch_page(site.url("/slow"), allow_hosts=LOCAL, timeout=1.5)
    elapsed = time.monotonic() - started
    assert caught.value.code == "timeout"
    assert "1.5 秒" in caught.value.user_message
    assert 1.4 < elapsed < 3.5


def test_a_server_that_never_answers_hits_the_time_cap(site):
    site.route("/silent", slow([b"never"], 30))  # headers, then silence
    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        fetch_page(site.url("/silent"), allow_hosts=LOCAL, timeout=1)
    assert caught.value.code == "timeout"
    assert time.monotonic() - started < 2.5


@pytest.mark.parametrize(
    ("status", "words"),
    [(404, "ページが見つかりません（HTTP 404）"), (410, "HTTP 410"), (403, "許可されていません（HTTP 403）"),
     (500, "サーバーでエラーが発生"), (503, "HTTP 503"), (429, "混み合って")],
)
def test_http_errors_have_japanese_reasons(site, status, words):
    site.route("/", "<h1>error</h1>", status=status)
    with pytest.raises(FetchError) as caught:
        fetch_page(site.url("/"), allow_hosts=LOCAL)
    assert caught.value.code == "http_status" and caught.value.status == status
    assert words in caught.value.user_message
    with pytest.raises(FetchError) as caught:
        fetch_page(site.url("/missing"), allow_hosts=LOCAL)
    assert caught.value.status == 404


def test_a_closed_port_fails_with_a_reason(sites):
    closed = sites()
    port = closed.port
    closed.stop()
    with pytest.raises(FetchError) as caught:
        fetch_page(f"http://127.0.0.1:{port}/", allow_hosts=LOCAL, timeout=3)
    assert caught.value.code == "connect"
    assert "接続できませんでした" in caught.value.user_message


def test_what_is_not_html(site):
    site.route("/logo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, content_type="image/png")
    site.route("/data.bin", b"\x00\x01\x02 binary", content_type="application/octet-stream")
    site.route("/empty", "<html><body><div id='app'></div><script>render()</script></body></html>")
    for path, code in (("/logo.png", "not_html"), ("/data.bin", "not_html"), ("/empty", "empty")):
        with pytest.raises(FetchError) as caught:
            fetch_page(site.url(path), allow_hosts=LOCAL)
        assert caught.value.code == code, path
    with pytest.raises(FetchError) as caught:
        fetch_page(site.url("/logo.png"), allow_hosts=LOCAL)
    assert caught.value.user_message == (
        "このアドレスは Web ページ（HTML）ではないため取得できません（種類: image/png）。"
    )


def test_documents_come_back_as_files_for_the_parser(site):
    pdf = b"%PDF-1.4\n% test\n"
    site.route("/files/calendar.pdf", pdf, content_type="application/pdf")
    site.route(
        "/download",
        b"PK\x03\x04 fake xlsx",
        content_type="application/octet-stream",
        headers={"Content-Disposition": "attachment; filename*=UTF-8''%E5%88%86%E5%88%A5%E8%A1%A8.xlsx"},
    )
    site.route("/noname", pdf, content_type="application/octet-stream")

    with pytest.raises(FetchError) as caught:
        fetch_page(site.url("/files/calendar.pdf"), allow_hosts=LOCAL)
    assert caught.value.code == "file"

    file = fetch_page(site.url("/files/calendar.pdf"), allow_hosts=LOCAL, accept_files=True)
    assert isinstance(file, FetchedFile)
    assert (file.filename, file.data, file.content_type) == ("calendar.pdf", pdf, "application/pdf")
    assert file.final_url == site.url("/files/calendar.pdf")

    sheet = fetch_page(site.url("/download"), allow_hosts=LOCAL, accept_files=True)
    assert sheet.filename == "分別表.xlsx"
    sniffed = fetch_page(site.url("/noname"), allow_hosts=LOCAL, accept_files=True)
    assert sniffed.filename == "noname.pdf"

    with pytest.raises(FetchError) as caught:
        fetch_page(site.url("/files/calendar.pdf"), allow_hosts=LOCAL, accept_files=True, max_file_bytes=5)
    assert caught.value.code == "too_large"


def test_a_meta_refresh_top_page_is_followed_through_the_same_checks(site, dns):
    dns.table[CITY] = ["127.0.0.1"]
    site.route("/", '<html><head><meta http-equiv="refresh" content="0; URL=/top/index.html"></head></html>')
    site.route("/top/index.html", MUNICIPAL_PAGE)
    site.route("/bad", f'<meta http-equiv="refresh" content="0;url=http://127.0.0.1:{site.port}/top/index.html">')
    page = fetch_page(f"http://{CITY}:{site.port}/", allow_hosts=[CITY])
    assert page.final_url == f"http://{CITY}:{site.port}/top/index.html"
    assert page.redirects == [f"http://{CITY}:{site.port}/"]
    with pytest.raises(FetchError) as caught:
        fetch_page(f"http://{CITY}:{site.port}/bad", allow_hosts=[CITY])
    assert caught.value.code == "blocked_address"


# Proxies. The proxy here is one more local server answering absolute-form requests, as a forward proxy does.


def test_through_a_proxy_names_are_left_to_the_proxy_when_they_do_not_resolve_locally(sites, dns, no_network):
    proxy = sites()
    proxy.route("*", MUNICIPAL_PAGE)
    page = fetch_page("http://www.city.example.lg.jp/kurashi/", proxy=proxy.url(""))
    assert page.final_url == "http://www.city.example.lg.jp/kurashi/"
    assert proxy.paths() == ["http://www.city.example.lg.jp/kurashi/"]  # the proxy got the name, and resolves it
    assert no_network == []


def test_through_a_proxy_a_name_that_resolves_to_an_internal_address_is_still_refused(sites, dns):
    proxy = sites()
    proxy.route("*", MUNICIPAL_PAGE)
    dns.table["intranet.example.com"] = ["10.9.8.7"]
    for url in ("http://intranet.example.com/", "http://192.168.0.10/", "http://169.254.169.254/latest/"):
        with pytest.raises(FetchError):
            fetch_page(url, proxy=proxy.url(""))
    assert proxy.requests == []


def test_the_proxy_comes_from_the_setting_or_the_environment_and_no_proxy_is_honoured(sites, dns, settings,
                                                                                      monkeypatch):
    proxy = sites()
    proxy.route("*", MUNICIPAL_PAGE)
    direct = sites()
    direct.route("/", MUNICIPAL_PAGE)
    dns.table["portal.lgwan.example"] = ["127.0.0.1"]

    settings.AKAGI_HTTP_PROXY = proxy.url("")
    fetch_page("http://www.example.com/a")
    monkeypatch.setenv("NO_PROXY", ".lgwan.example,localhost")
    fetch_page(f"http://portal.lgwan.example:{direct.port}/", allow_hosts=["portal.lgwan.example"])
    settings.AKAGI_HTTP_PROXY = ""
    monkeypatch.setenv("HTTP_PROXY", proxy.url(""))
    fetch_page("http://www.example.com/b")
    with pytest.raises(FetchError) as caught:  # "" turns the proxy off: the name is then unknown here
        fetch_page("http://www.example.com/c", proxy="")
    assert caught.value.code == "dns"

    assert proxy.paths() == ["http://www.example.com/a", "http://www.example.com/b"]
    assert direct.paths() == ["/"]


def test_a_proxy_that_is_down_is_reported_as_a_proxy_problem(sites, dns):
    down = sites()
    port = down.port
    down.stop()
    with pytest.raises(FetchError) as caught:
        fetch_page("http://www.example.com/", proxy=f"http://127.0.0.1:{port}", timeout=3)
    assert caught.value.code == "proxy"
    assert "プロキシ" in caught.value.user_message
