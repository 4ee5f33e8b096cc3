"""crawl against real local sites: depth, same-host scope, robots.txt, de-duplication, files, failures alone."""

from __future__ import annotations

import time

import pytest

from rag.web import ROBOTS_MESSAGE, FetchedFile, FetchedPage, FetchError, crawl, normalize_url
from tests.rag import test_web_support as support

# Fixtures shared by the rag.web tests (tests/rag/conftest.py belongs to the parsing tests).
clean_settings = support.clean_settings
dns = support.dns
site = support.site
sites = support.sites

pytestmark = pytest.mark.usefixtures("clean_settings")

CITY = "www.city.example.lg.jp"
OTHER = "www.pref.example.lg.jp"


def page(title: str, body: str = "", links: tuple[str, ...] = (), head: str = "") -> str:
    anchors = "".join(f'<li><a href="{href}">{href}</a></li>' for href in links)
    return (
        f"<html><head><title>{title}</title>{head}</head><body>"
        f'<nav id="gnavi"><ul>{anchors}</ul></nav>'
        f"<main><h1>{title}</h1><p>{body or title + 'の本文です。'}</p></main>"
        "<footer>© city</footer></body></html>"
    )


@pytest.fixture
def city(site, dns):
    """A municipal site at www.city.example.lg.jp (served on 127.0.0.1, the name allowed) and a prefecture site."""
    dns.table[CITY] = ["127.0.0.1"]
    dns.table[OTHER] = ["127.0.0.1"]
    base = f"http://{CITY}:{site.port}"
    site.base = base
    site.route("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    site.route(
        "/",
        page(
            "トップ",
            links=("/a/", "/a", "/a/#news", "/b.html", "/private/secret.html", "/files/guide.pdf", "/logo.png",
                   "/old", "mailto:info@city.example.lg.jp", f"http://{OTHER}:{site.port}/pref.html"),
        ),
    )
    site.route("/a/", page("くらし", links=("/c.html", "/")))
    site.route("/b.html", page("子育て", links=("/", "/a/")))
    site.route("/c.html", page("ごみ", links=("/d.html",)))
    site.route("/d.html", page("粗大ごみ"))
    site.route("/old", b"", status=301, headers={"Location": "/a/"})
    site.route("/private/secret.html", page("秘密"))
    site.route("/files/guide.pdf", b"%PDF-1.4\n%guide\n", content_type="application/pdf")
    site.route("/logo.png", b"\x89PNG", content_type="image/png")
    site.route("/pref.html", page("県のページ"))
    return site


def run(city, **options) -> list:
    options.setdefault("allow_hosts", [CITY, OTHER])
    options.setdefault("delay", 0)
    return crawl(city.base + "/", **options)


def titles(results) -> list[str]:
    return [result.title if isinstance(result, FetchedPage) else result.filename for result in results]


def test_depth_zero_is_the_start_page_only(city):
    results = run(city, depth=0)
    assert titles(results) == ["トップ"]
    assert city.paths() == ["/robots.txt", "/"]


def test_depth_one_follows_same_host_links_once_each_honouring_robots(city):
    results = run(city, depth=1)

    assert titles(results) == ["トップ", "くらし", "子育て", "guide.pdf"]
    assert [result.depth for result in results] == [0, 1, 1, 1]
    assert isinstance(results[3], FetchedFile) and results[3].data.startswith(b"%PDF")
    paths = city.paths()
    assert paths.count("/robots.txt") == 1
    assert "/private/secret.html" not in paths  # robots.txt
    assert "/logo.png" not in paths  # never a page or a document
    assert "/c.html" not in paths  # depth 2
    assert paths.count("/a/") == 2  # "/a/", "/a" and "/a/#news" are one page; "/old" redirects to it
    assert "/a" not in paths
    assert all(seen.host.startswith(CITY) for seen in city.requests)  # the other host was never requested


def test_deeper_crawls_and_the_page_limit(city):
    assert titles(run(city, depth=2)) == ["トップ", "くらし", "子育て", "guide.pdf", "ごみ"]
    assert titles(run(city, depth=3))[-1] == "粗大ごみ"
    assert titles(run(city, depth=3, max_pages=2)) == ["トップ", "くらし"]


def test_other_hosts_only_when_asked(city):
    assert "県のページ" not in titles(run(city, depth=1))
    assert "県のページ" in titles(run(city, depth=1, same_host_only=False))


def test_robots_can_be_ignored_by_the_operator(city):
    assert "秘密" in titles(run(city, depth=1, respect_robots=False))
    assert "/robots.txt" not in city.paths()[-8:]


def test_rules_for_akagibot_win_over_the_wildcard_group(city):
    city.route("/robots.txt", "User-agent: *\nDisallow: /\n\nUser-agent: AkagiBot\nDisallow: /b.html\n",
               content_type="text/plain")
    assert titles(run(city, depth=1)) == ["トップ", "くらし", "秘密", "guide.pdf"]  # the most specific group only


def test_a_start_page_disallowed_by_robots_fails_with_a_reason_and_is_not_requested(city):
    city.route("/robots.txt", "User-agent: *\nDisallow: /\n", content_type="text/plain")
    with pytest.raises(FetchError) as caught:
        run(city)
    assert caught.value.code == "robots"
    assert caught.value.user_message == ROBOTS_MESSAGE
    assert city.paths() == ["/robots.txt"]


def test_robots_txt_errors_follow_rfc_9309(city):
    city.route("/robots.txt", "gone", status=404, content_type="text/plain")
    assert len(run(city, depth=1)) == 4 + 1  # no rules: /private/ too
    city.route("/robots.txt", "oops", status=503, content_type="text/plain")
    with pytest.raises(FetchError) as caught:
        run(city)
    assert caught.value.code == "robots_unreachable"
    assert "robots.txt を確認できなかった" in caught.value.user_message


def test_meta_robots_noindex_and_nofollow(city):
    city.route("/b.html", page("子育て", links=("/c.html",), head='<meta name="robots" content="noindex">'))
    city.route("/a/", page("くらし", links=("/d.html",), head='<meta name="robots" content="nofollow">'))
    results = run(city, depth=2)
    assert "子育て" not in titles(results)  # not taken in ...
    assert "ごみ" in titles(results)  # ... but its links are followed
    assert "/d.html" not in city.paths()  # nofollow


def test_files_can_be_left_out(city):
    assert "guide.pdf" not in titles(run(city, depth=1, include_files=False))
    assert "/files/guide.pdf" not in city.paths()


def test_a_link_that_redirects_inside_the_network_fails_alone(city, no_network):
    city.route("/a/", b"", status=302, headers={"Location": f"http://127.0.0.1:{city.port}/a/"})
    city.route("/b.html", b"", status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    skipped: list[tuple[str, str]] = []
    seen: list[str] = []

    results = run(city, depth=1, on_skip=lambda url, error: skipped.append((url, error.code)),
                  on_page=lambda result: seen.append(result.final_url))

    assert titles(results) == ["トップ", "guide.pdf"]
    assert seen == [result.final_url for result in results]
    assert (city.base + "/a/", "blocked_address") in skipped
    assert (city.base + "/b.html", "metadata_address") in skipped
    assert no_network == []


def test_the_site_is_the_host_the_start_page_redirects_to(site, dns):
    dns.table["city.example.lg.jp"] = ["127.0.0.1"]
    dns.table[CITY] = ["127.0.0.1"]
    site.route("/robots.txt", "", content_type="text/plain")
    site.route("/", b"", status=301, headers={"Location": f"http://{CITY}:{site.port}/top.html"})
    site.route("/top.html", page("トップ", links=("/a.html",)))
    site.route("/a.html", page("くらし"))
    results = crawl(f"http://city.example.lg.jp:{site.port}/", allow_hosts=[CITY, "city.example.lg.jp"], delay=0)
    assert titles(results) == ["トップ", "くらし"]
    assert results[1].final_url == f"http://{CITY}:{site.port}/a.html"


def test_a_start_url_inside_the_network_is_refused_before_anything_is_requested(site):
    site.route("/", page("トップ"))
    with pytest.raises(FetchError) as caught:
        crawl(site.url("/"), delay=0)
    assert caught.value.code == "blocked_address"
    assert site.requests == []


def test_crawl_delay_spaces_requests(city):
    city.route("/robots.txt", "User-agent: *\nCrawl-delay: 1\n", content_type="text/plain")
    started = time.monotonic()
    results = run(city, depth=1, include_files=False, max_pages=2)
    assert len(results) == 2
    assert time.monotonic() - started >= 1


def test_a_start_page_without_text_still_leads_to_its_links(city):
    city.route("/", '<html><body><nav id="gnavi"><a href="/a/">くらし</a></nav></body></html>')
    assert titles(run(city, depth=1)) == ["くらし"]
    city.route("/", "<html><body><script>app()</script></body></html>")
    with pytest.raises(FetchError) as caught:
        run(city, depth=1)
    assert caught.value.code == "empty"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("http://Example.COM/a/", "http://example.com/a"),
        ("http://example.com:80/a#x", "http://example.com/a"),
        ("https://example.com:443/", "https://example.com"),
        ("http://example.com/a?b=1#c", "http://example.com/a/?b=1"),
    ],
)
def test_url_normalisation(a, b):
    assert normalize_url(a) == normalize_url(b)


def test_url_normalisation_keeps_what_matters():
    assert normalize_url("http://example.com/a?b=1") != normalize_url("http://example.com/a?b=2")
    assert normalize_url("http://example.com:8080/") != normalize_url("http://example.com/")
    assert normalize_url("http://example.com/A") != normalize_url("http://example.com/a")
