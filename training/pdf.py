"""A manual as one PDF for distribution: title page, 目次 with page numbers, then the manual itself.

Built server-side with reportlab alone. The Japanese text uses reportlab's built-in CID fonts (HeiseiKakuGo-W5):
the PDF names the font and the reader's own Japanese font draws it, so no font file is shipped, embedded or
downloaded, and nothing needs system packages. The Markdown is walked as markdown-it tokens (the same parser the
HTML pages use, with raw HTML off) and every piece of text is escaped before it reaches reportlab's paragraph
markup, so nothing in a manual can become markup or a link the manual did not write as one.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import unquote
from xml.sax.saxutils import escape

from markdown_it import MarkdownIt
from markdown_it.token import Token
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    ListFlowable,
    ListItem,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.flowables import HRFlowable
from reportlab.platypus.tableofcontents import TableOfContents

from training.manuals import Manual, slugify_heading

FONT = "HeiseiKakuGo-W5"
PRIMARY = colors.HexColor("#0b57a4")
DARK = colors.HexColor("#083f78")
LINE = colors.HexColor("#c9ced6")
CODE_BG = colors.HexColor("#f2f2f2")
TOC_TITLE = "目次"

pdfmetrics.registerFont(UnicodeCIDFont(FONT))
# A CID font has no bold or italic face; map them to itself so <b>/<i> never fail (emphasis is shown by colour).
pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT, italic=FONT, boldItalic=FONT)

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)


def _style(name: str, **kw) -> ParagraphStyle:
    base = {"fontName": FONT, "fontSize": 10.5, "leading": 17, "wordWrap": "CJK", "textColor": colors.black}
    base.update(kw)
    return ParagraphStyle(name, **base)


STYLES = {
    "body": _style("body", spaceAfter=5),
    "h1": _style("h1", fontSize=20, leading=28, textColor=DARK, spaceBefore=6, spaceAfter=10),
    "h2": _style("h2", fontSize=16, leading=23, textColor=DARK, spaceBefore=14, spaceAfter=8,
                 borderPadding=(0, 0, 3, 0)),
    "h3": _style("h3", fontSize=13, leading=19, textColor=DARK, spaceBefore=10, spaceAfter=5),
    "h4": _style("h4", fontSize=11.5, leading=17, textColor=DARK, spaceBefore=8, spaceAfter=4),
    "cell": _style("cell", fontSize=9, leading=13),
    "th": _style("th", fontSize=9, leading=13, textColor=DARK),
    "code": _style("code", fontSize=9, leading=13, backColor=CODE_BG, borderPadding=5, leftIndent=5,
                   rightIndent=5, spaceBefore=4, spaceAfter=9),
    "quote": _style("quote", textColor=colors.HexColor("#333333")),
    "title": _style("title", fontSize=28, leading=38, alignment=TA_CENTER, textColor=DARK),
    "subtitle": _style("subtitle", fontSize=14, leading=22, alignment=TA_CENTER, textColor=colors.HexColor("#444444")),
    "toc_title": _style("toc_title", fontSize=18, leading=26, textColor=DARK, spaceAfter=12),
    "toc0": _style("toc0", fontSize=11, leading=18, leftIndent=0, firstLineIndent=0),
    "toc1": _style("toc1", fontSize=10, leading=15, leftIndent=14 * mm, firstLineIndent=0,
                   textColor=colors.HexColor("#333333")),
}
HEADING_STYLE = {1: "h1", 2: "h2", 3: "h3"}  # deeper headings use h4


# --------------------------------------------------------------------------- Markdown tokens to flowables


@dataclass
class _Context:
    anchors: dict[str, str]  # heading anchor (as in the HTML pages) -> PDF destination name (ASCII)
    seen: dict[str, int] = field(default_factory=dict)
    skip_level: int | None = None  # while skipping the manual's own 目次 section
    headings: int = 0


def _inline(token: Token | None, ctx: _Context) -> str:
    """Inline tokens as reportlab paragraph markup, every piece of text escaped."""
    if token is None or not token.children:
        return escape(token.content) if token is not None else ""
    out: list[str] = []
    open_links: list[bool] = []
    for child in token.children:
        kind = child.type
        if kind == "text":
            out.append(escape(child.content))
        elif kind == "softbreak":
            # A line break inside a Japanese paragraph is not a space.
            previous = out[-1][-1:] if out and out[-1] else ""
            out.append("" if previous and ord(previous) > 0x2E7F else " ")
        elif kind == "hardbreak":
            out.append("<br/>")
        elif kind == "code_inline":
            out.append(f'<font color="#5a2d0c" backColor="#f2f2f2">{escape(child.content)}</font>')
        elif kind == "strong_open":
            out.append('<b><font color="#083f78">')
        elif kind == "strong_close":
            out.append("</font></b>")
        elif kind == "em_open":
            out.append("<i>")
        elif kind == "em_close":
            out.append("</i>")
        elif kind == "s_open":
            out.append("<strike>")
        elif kind == "s_close":
            out.append("</strike>")
        elif kind == "link_open":
            href = _link_target(child.attrGet("href") or "", ctx)
            open_links.append(href is not None)
            if href is not None:
                out.append(f'<a href="{escape(href, {chr(34): "&quot;"})}" color="#0b57a4">')
        elif kind == "link_close":
            if open_links and open_links.pop():
                out.append("</a>")
        elif kind == "image":
            out.append(escape(child.content or ""))  # images are not carried into the PDF; keep their text
        else:
            out.append(escape(child.content or ""))
    return "".join(out)


def _link_target(href: str, ctx: _Context) -> str | None:
    if href.startswith("#"):
        name = ctx.anchors.get(unquote(href[1:]))
        return f"#{name}" if name else None
    if href.startswith(("http://", "https://", "mailto:")):
        return href
    return None  # links into the app (relative paths) mean nothing on paper: keep only their text


def _plain(token: Token | None) -> str:
    if token is None or not token.children:
        return token.content if token is not None else ""
    return "".join(c.content for c in token.children if c.type in {"text", "code_inline"})


def _close_index(tokens: list[Token], start: int) -> int:
    """Index of the token closing the block opened at ``start``."""
    depth = 0
    for i in range(start, len(tokens)):
        depth += tokens[i].nesting
        if depth == 0:
            return i
    return len(tokens) - 1


class _Heading(Paragraph):
    """A heading paragraph that the document template turns into a 目次 entry and a PDF bookmark."""

    def __init__(self, text: str, style: ParagraphStyle, *, level: int, title: str, key: str):
        super().__init__(text, style)
        self.toc_level, self.toc_title, self.toc_key = level, title, key


def _blocks(tokens: list[Token], start: int, end: int, ctx: _Context, width: float) -> list[Flowable]:
    flowables: list[Flowable] = []
    i = start
    while i < end:
        token = tokens[i]
        kind = token.type
        if kind == "heading_open":
            level = int(token.tag[1])
            title = _plain(tokens[i + 1])
            anchor_base = slugify_heading(title)
            count = ctx.seen.get(anchor_base, 0)
            ctx.seen[anchor_base] = count + 1
            anchor = anchor_base if count == 0 else f"{anchor_base}-{count}"
            if ctx.skip_level is not None and level <= ctx.skip_level:
                ctx.skip_level = None
            if title.strip() == TOC_TITLE:
                ctx.skip_level = level  # the generated 目次 (with page numbers) replaces the hand-written one
            if ctx.skip_level is None:
                key = ctx.anchors[anchor]
                style = STYLES[HEADING_STYLE.get(level, "h4")]
                text = f'<a name="{key}"/>{_inline(tokens[i + 1], ctx)}'
                flowables.append(_Heading(text, style, level=level, title=title, key=key))
                if level == 2:
                    flowables.append(HRFlowable(width="100%", thickness=1, color=LINE, spaceBefore=0, spaceAfter=6))
            i = _close_index(tokens, i) + 1
            continue
        if ctx.skip_level is not None:
            i = (_close_index(tokens, i) if token.nesting == 1 else i) + 1
            continue
        if kind == "paragraph_open":
            flowables.append(Paragraph(_inline(tokens[i + 1], ctx), STYLES["body"]))
            i = _close_index(tokens, i) + 1
        elif kind in ("bullet_list_open", "ordered_list_open"):
            close = _close_index(tokens, i)
            flowables.append(_list(tokens, i, close, ctx, width))
            i = close + 1
        elif kind == "table_open":
            close = _close_index(tokens, i)
            flowables.append(_table(tokens, i, close, ctx, width))
            i = close + 1
        elif kind == "blockquote_open":
            close = _close_index(tokens, i)
            inner = _blocks(tokens, i + 1, close, ctx, width - 12 * mm)
            box = Table([[inner]], colWidths=[width - 4 * mm])
            box.setStyle(TableStyle([
                ("LINEBEFORE", (0, 0), (0, 0), 3, LINE),
                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#f7f8fa")),
                ("LEFTPADDING", (0, 0), (-1, -1), 8), ("TOPPADDING", (0, 0), (-1, -1), 4),
            ]))
            flowables.extend([box, Spacer(1, 6)])
            i = close + 1
        elif kind in ("fence", "code_block"):
            code = escape(token.content.rstrip("\n")).replace(" ", "&nbsp;").replace("\n", "<br/>")
            flowables.append(Paragraph(code, STYLES["code"]))
            i += 1
        elif kind == "hr":
            flowables.append(HRFlowable(width="100%", thickness=.7, color=LINE, spaceBefore=6, spaceAfter=6))
            i += 1
        else:
            i += 1
    return flowables


def _list(tokens: list[Token], start: int, end: int, ctx: _Context, width: float) -> ListFlowable:
    ordered = tokens[start].type == "ordered_list_open"
    items: list[ListItem] = []
    i = start + 1
    while i < end:
        if tokens[i].type == "list_item_open":
            close = _close_index(tokens, i)
            items.append(ListItem(_blocks(tokens, i + 1, close, ctx, width - 8 * mm) or [Spacer(1, 0)]))
            i = close + 1
        else:
            i += 1
    if ordered:
        options = {"bulletType": "1", "start": tokens[start].attrGet("start") or 1, "bulletFormat": "%s.",
                   "bulletFontSize": 10}
    else:
        options = {"bulletType": "bullet", "start": "•", "bulletFontSize": 9}
    return ListFlowable(items, leftIndent=7 * mm, bulletFontName="Helvetica", spaceAfter=4, **options)


def _table(tokens: list[Token], start: int, end: int, ctx: _Context, width: float) -> Table:
    rows: list[list[Paragraph]] = []
    lengths: list[list[int]] = []
    header_rows = 0
    i = start
    while i < end:
        if tokens[i].type == "tr_open":
            close = _close_index(tokens, i)
            row, row_len = [], []
            for j in range(i + 1, close):
                if tokens[j].type in ("th_open", "td_open"):
                    inline = tokens[j + 1] if tokens[j + 1].type == "inline" else None
                    style = STYLES["th"] if tokens[j].type == "th_open" else STYLES["cell"]
                    row.append(Paragraph(_inline(inline, ctx), style))
                    row_len.append(len(_plain(inline)))
            if tokens[i + 1].type == "th_open":
                header_rows += 1
            rows.append(row)
            lengths.append(row_len)
            i = close + 1
        else:
            i += 1
    columns = max((len(r) for r in rows), default=1)
    for row, row_len in zip(rows, lengths, strict=True):
        while len(row) < columns:
            row.append(Paragraph("", STYLES["cell"]))
            row_len.append(0)
    # Columns share the width by their longest text, each keeping a readable minimum.
    longest = [max(6, min(40, max(r[c] for r in lengths))) for c in range(columns)]
    total = sum(longest)
    widths = [width * n / total for n in longest]
    table = Table(rows, colWidths=widths, repeatRows=header_rows, hAlign="LEFT")
    commands = [
        ("GRID", (0, 0), (-1, -1), .5, LINE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if header_rows:
        commands.append(("BACKGROUND", (0, 0), (-1, header_rows - 1), colors.HexColor("#e9edf2")))
    table.setStyle(TableStyle(commands))
    table.spaceAfter = 8
    return table


# --------------------------------------------------------------------------- the document


class _ManualDoc(BaseDocTemplate):
    def __init__(self, buffer, *, manual_title: str, edition: str, **kw):
        super().__init__(buffer, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=22 * mm,
                         bottomMargin=20 * mm, title=f"Akagi {manual_title}", author="Akagi",
                         subject="自治体向け生成AIサービス Akagi のマニュアル", creator="Akagi", **kw)
        self.manual_title, self.edition = manual_title, edition
        frame = Frame(self.leftMargin, self.bottomMargin, self.width, self.height, id="body")
        self.addPageTemplates([
            PageTemplate(id="title", frames=[frame]),
            PageTemplate(id="pages", frames=[frame], onPage=self._decorate),
        ])
        self._outline_level = -1

    def _decorate(self, canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 8.5)
        canvas.setFillColor(colors.HexColor("#555555"))
        canvas.drawString(self.leftMargin, A4[1] - 13 * mm, f"Akagi {self.manual_title}")
        canvas.drawRightString(A4[0] - self.rightMargin, A4[1] - 13 * mm, self.edition)
        canvas.setStrokeColor(LINE)
        canvas.line(self.leftMargin, A4[1] - 15 * mm, A4[0] - self.rightMargin, A4[1] - 15 * mm)
        canvas.drawCentredString(A4[0] / 2, 11 * mm, f"- {doc.page} -")
        canvas.restoreState()

    def afterFlowable(self, flowable) -> None:
        if not isinstance(flowable, _Heading) or flowable.toc_level < 2:
            return
        level = flowable.toc_level - 2
        if level <= 1:
            self.notify("TOCEntry", (level, escape(flowable.toc_title), self.page, flowable.toc_key))
        # An outline level may not jump by more than one below the previous entry.
        level = min(level, self._outline_level + 1)
        self.canv.addOutlineEntry(flowable.toc_title, flowable.toc_key, level=level, closed=level > 0)
        self._outline_level = level


def _keep_headings_with_next(body: list[Flowable]) -> list[Flowable]:
    """A heading never ends a page on its own: it travels with its rule and the block after it."""
    out: list[Flowable] = []  # built from the end, so out[-1] is what follows the current flowable
    for flowable in reversed(body):
        if isinstance(flowable, _Heading) and out:
            keep = [flowable]
            if isinstance(out[-1], HRFlowable):
                keep.append(out.pop())
            if out:
                keep.append(out.pop())
            out.append(KeepTogether(keep))
        else:
            out.append(flowable)
    out.reverse()
    return out


def _anchors(source: str) -> dict[str, str]:
    """Each heading's anchor (the same rule as the HTML pages) mapped to an ASCII PDF destination."""
    seen: dict[str, int] = {}
    names: dict[str, str] = {}
    tokens = _md.parse(source)
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            base = slugify_heading(_plain(tokens[i + 1]))
            count = seen.get(base, 0)
            seen[base] = count + 1
            names[base if count == 0 else f"{base}-{count}"] = f"h{len(names) + 1}"
    return names


def _title_page(manual: Manual, edition: str) -> list[Flowable]:
    return [
        Spacer(1, 55 * mm),
        Paragraph("Akagi", _style("brand", fontSize=16, leading=22, alignment=TA_CENTER, textColor=PRIMARY)),
        Spacer(1, 6 * mm),
        Paragraph(escape(manual.title), STYLES["title"]),
        Spacer(1, 8 * mm),
        Paragraph("自治体向け生成AIサービス", STYLES["subtitle"]),
        Spacer(1, 70 * mm),
        Paragraph(escape(edition), STYLES["subtitle"]),
        Spacer(1, 3 * mm),
        Paragraph("この PDF は Akagi の画面（学習 &gt; マニュアル）から出力したものです。"
                  "最新の内容は画面でご確認ください。",
                  _style("note", fontSize=9, leading=14, alignment=TA_CENTER, textColor=colors.HexColor("#555555"))),
    ]


def build_pdf(manual: Manual, *, edition: str) -> bytes:
    """The manual as PDF bytes. ``edition`` (e.g. "2026年4月1日版") is printed on the title page and each header."""
    ctx = _Context(anchors=_anchors(manual.source))
    buffer = io.BytesIO()
    doc = _ManualDoc(buffer, manual_title=manual.title, edition=edition)
    toc = TableOfContents(levelStyles=[STYLES["toc0"], STYLES["toc1"]], dotsMinLevel=0)
    story: list[Flowable] = [
        *_title_page(manual, edition),
        NextPageTemplate("pages"),
        PageBreak(),
        Paragraph(TOC_TITLE, STYLES["toc_title"]),
        toc,
        PageBreak(),
    ]
    tokens = _md.parse(manual.source)
    story.extend(_keep_headings_with_next(_blocks(tokens, 0, len(tokens), ctx, doc.width)))
    doc.multiBuild(story)
    return buffer.getvalue()


_build_lock = threading.Lock()  # reportlab keeps some module-level state while building: one build at a time


@lru_cache(maxsize=4)
def _cached(kind: str, mtime_ns: int, edition: str) -> bytes:
    from training.manuals import load_manual

    return build_pdf(load_manual(kind), edition=edition)


def manual_pdf(kind: str) -> bytes:
    """The PDF of a manual, built once per version of its file (a few seconds of CPU otherwise)."""
    import datetime as dt

    from django.utils import timezone

    from training.manuals import manual_path

    mtime_ns = manual_path(kind).stat().st_mtime_ns
    day = timezone.localtime(dt.datetime.fromtimestamp(mtime_ns / 1e9, tz=dt.UTC))
    with _build_lock:
        return _cached(kind, mtime_ns, f"{day.year}年{day.month}月{day.day}日版")
