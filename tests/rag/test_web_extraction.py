"""Main text, headings and links from HTML as Japanese municipal CMSs write it, and decoding their bytes."""

from __future__ import annotations

import codecs

import pytest

from rag.web import decode_html, extract_main_text

BASE = "https://www.city.example.lg.jp/kurashi/index.html"


def sections(html: str) -> list[tuple[list[str], str]]:
    return extract_main_text(html, base_url=BASE).sections


def test_a_shirasagi_style_page():
    html = """<html><body>
    <div id="head"><div id="site-name"><a href="/">○○市</a></div><div id="tool"><a href="/">読み上げ</a></div></div>
    <nav id="navi"><ul><li><a href="/kurashi/">くらし</a></li></ul></nav>
    <div id="breadcrumbs"><a href="/">トップ</a> › くらし</div>
    <div id="wrap"><div id="main"><article class="body">
      <header><h1>マイナンバーカードの交付</h1><p class="date">2025年4月1日</p></header>
      <p>交付には予約が必要です。</p>
      <h2>持ち物</h2><p>通知書と本人確認書類。</p>
    </article></div>
    <div id="side"><h2>注目情報</h2><ul><li>イベント</li></ul></div></div>
    <footer id="foot"><p>○○市役所</p></footer></body></html>"""
    assert sections(html) == [
        (["マイナンバーカードの交付"], "2025年4月1日\n交付には予約が必要です。"),
        (["マイナンバーカードの交付", "持ち物"], "通知書と本人確認書類。"),
    ]


def test_a_wordpress_style_page_keeps_the_entry_header_and_drops_the_site_header():
    html = """<html><body>
    <header class="site-header"><p class="site-title">○○町</p><p>観光と暮らしの情報</p>
      <div class="menu-main"><a href="/">ホーム</a></div></header>
    <div class="content-area"><div class="entry">
      <div class="entry-header"><h1 class="entry-title">図書館の休館日</h1></div>
      <div class="entry-content"><p>毎週月曜日は休館です。</p><p class="side-note">※祝日の場合は翌日。</p></div>
    </div></div>
    <div class="widget-area sidebar"><section><h2>最近の投稿</h2></section></div>
    <div class="site-footer">© ○○町</div></body></html>"""
    assert sections(html) == [(["図書館の休館日"], "毎週月曜日は休館です。\n※祝日の場合は翌日。")]


def test_an_asp_net_page_wrapped_in_one_form_keeps_its_content_but_drops_search_boxes():
    html = """<html><body><form id="form1" action="default.aspx">
    <div class="gnav"><a href="/">トップ</a></div>
    <div role="search"><input name="q"><input type="submit" value="検索"></div>
    <h1>休日当番医</h1><p>日曜日の当番医は次のとおりです。</p>
    <form action="/search"><label>サイト内検索</label><input name="q"></form>
    </form></body></html>"""
    assert sections(html) == [(["休日当番医"], "日曜日の当番医は次のとおりです。")]


def test_an_old_layout_table_page_keeps_its_headings():
    html = """<html><body><table width="100%"><tr>
    <td id="leftmenu" width="180"><ul><li><a href="/">メニュー</a></li></ul></td>
    <td><h1>各種証明書</h1><p>窓口で申請してください。</p><h2>手数料</h2>
      <table border="1"><tr><th>証明書</th><th>手数料</th></tr><tr><td>住民票の写し</td><td>300円</td></tr></table>
    </td></tr></table></body></html>"""
    assert sections(html) == [
        (["各種証明書"], "窓口で申請してください。"),
        (["各種証明書", "手数料"], "証明書 | 手数料\n住民票の写し | 300円"),
    ]


def test_hidden_and_landmark_elements_are_dropped():
    html = """<html><body><main>
    <div role="navigation"><a href="/">ホーム</a></div>
    <p hidden>隠し要素</p><p aria-hidden="true">読み上げない</p><div style="display: none">非表示</div>
    <p class="skip"><a href="#main">本文へ</a></p>
    <div class="sns-share">シェアする</div><div class="pankuzu">ホーム &gt; くらし</div>
    <p>本文だけが残ります。</p>
    <div class="pageTop"><a href="#top">ページの先頭へ</a></div>
    </main></body></html>"""
    assert sections(html) == [([], "本文だけが残ります。")]


def test_heading_paths_follow_heading_levels():
    html = """<main><h1>総合計画</h1><p>前文。</p>
    <h2>第1章</h2><h3>第1節</h3><p>一。</p><h3>第2節</h3><p>二。</p>
    <h2>第2章</h2><p>三。</p><h4>補足</h4><p>四。</p>
    <h2><img src="x.png" alt="第3章 画像の見出し"></h2><p>五。</p></main>"""
    assert sections(html) == [
        (["総合計画"], "前文。"),
        (["総合計画", "第1章", "第1節"], "一。"),
        (["総合計画", "第1章", "第2節"], "二。"),
        (["総合計画", "第2章"], "三。"),
        (["総合計画", "第2章", "補足"], "四。"),
        (["総合計画", "第3章 画像の見出し"], "五。"),
    ]


def test_white_space_is_japanese_aware():
    html = """<main><p>市役所の
    開庁時間は<b>午前8時30分</b>から
    午後5時15分までです。</p><p>Office hours
    are 8:30 to 17:15.</p><p>住所<br>大手町2-12-1</p></main>"""
    assert sections(html) == [
        ([], "市役所の開庁時間は午前8時30分から午後5時15分までです。\n"
             "Office hours are 8:30 to 17:15.\n住所\n大手町2-12-1")
    ]


def test_links_resolve_against_base_and_skip_what_cannot_be_fetched():
    html = """<html><head><base href="https://www.city.example.lg.jp/kosodate/"></head><body>
    <a href="hoiku.html#a">保育</a><a href="/">トップ</a><a href="  /kurashi/\n">改行入り</a>
    <a href="mailto:a@example.jp">メール</a><a href="tel:0270000000">電話</a><a href="javascript:void(0)">js</a>
    <a href="#top">先頭</a><a href="https://user:pw@www.city.example.lg.jp/">認証</a>
    <a href="//www.pref.example.lg.jp/x">県</a><a href="ftp://ftp.example.jp/">ftp</a>
    <map><area href="/map.html"></map><p>本文。</p></body></html>"""
    extracted = extract_main_text(html, base_url=BASE)
    assert extracted.links == [
        "https://www.city.example.lg.jp/kosodate/hoiku.html",
        "https://www.city.example.lg.jp/",
        "https://www.city.example.lg.jp/kurashi/",
        "https://www.city.example.lg.jp/map.html",
    ]
    assert extracted.external_links == ["https://www.pref.example.lg.jp/x"]


def test_frames_meta_refresh_and_robots_meta():
    frameset = """<html><head><meta name="robots" content="NOINDEX, nofollow">
    <meta http-equiv="refresh" content="5; URL='/new/top.html'"></head>
    <frameset><frame src="menu.html"><frame src="main.html"></frameset></html>"""
    extracted = extract_main_text(frameset, base_url=BASE)
    assert extracted.sections == []
    assert extracted.links == [
        "https://www.city.example.lg.jp/kurashi/menu.html",
        "https://www.city.example.lg.jp/kurashi/main.html",
    ]
    assert extracted.refresh_url == "https://www.city.example.lg.jp/new/top.html"
    assert {"noindex", "nofollow"} <= extracted.robots


def test_the_title_falls_back_to_the_first_h1_and_broken_html_does_not_raise():
    assert extract_main_text("<h1>見出し</h1><p>本文", base_url=BASE).title == "見出し"
    assert extract_main_text("", base_url=BASE).sections == []
    assert extract_main_text("\x00\x01", base_url=BASE).sections == []
    assert extract_main_text("<p>一<p>二<table><tr><td>三", base_url=BASE).text == "一\n二\n三"


def test_deep_nesting_neither_loses_text_nor_hits_the_recursion_limit():
    html = "<main>" + "<div>" * 1500 + "<p>深い本文。</p>" + "</div>" * 1500 + "</main>"
    assert "深い本文。" in extract_main_text(html, base_url=BASE).text


TEXT = "前橋市からのお知らせ。住民票の写しはコンビニでも取れます。"
SAMPLE = "<html><head>{meta}</head><body><p>" + TEXT + "</p></body></html>"


@pytest.mark.parametrize(
    ("data", "http_charset", "expected"),
    [
        (codecs.BOM_UTF8 + SAMPLE.format(meta='<meta charset="shift_jis">').encode(), "shift_jis", "utf-8-sig"),
        (codecs.BOM_UTF16_LE + SAMPLE.format(meta="").encode("utf-16-le"), None, "utf-16"),
        (('<?xml version="1.0" encoding="Shift_JIS"?>' + SAMPLE.format(meta="")).encode("cp932"), None, "cp932"),
        (SAMPLE.format(meta="").encode("iso2022_jp"), None, "iso2022_jp_ext"),
        (SAMPLE.format(meta="").encode("euc_jp"), "iso-8859-1", "euc_jp"),
        (SAMPLE.format(meta="<meta charset='x-sjis'>").encode("cp932"), None, "cp932"),
        (SAMPLE.format(meta="<meta charset='no-such-charset'>").encode("cp932"), None, "cp932"),
        (SAMPLE.format(meta="").encode("utf-8"), "euc-jp", "utf-8"),
    ],
)
def test_decoding(data, http_charset, expected):
    text, encoding = decode_html(data, http_charset)
    assert encoding == expected
    assert TEXT in text


def test_a_few_broken_bytes_keep_the_declared_charset():
    data = SAMPLE.format(meta='<meta charset="Shift_JIS">').encode("cp932")
    data = data.replace("住民票".encode("cp932"), b"\x81\xff")
    text, encoding = decode_html(data)
    assert encoding == "cp932"
    assert "前橋市からのお知らせ。" in text


def test_english_pages_in_latin_1_still_decode():
    text, _ = decode_html("<p>Café – Maebashi</p>".encode("cp1252"), "iso-8859-1")
    assert "Café – Maebashi" in text
