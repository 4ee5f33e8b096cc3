"""Tip Markdown as safe HTML: the chat renderer's rules, plus images only from this app's own uploads."""

from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt

from chat.rendering import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, render_markdown

__all__ = ["OWN_IMAGE_SRC", "render_markdown", "render_tip"]

OWN_IMAGE_SRC = re.compile(r"^/learn/images/\d+/$")

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)


def _image(renderer, tokens, idx, options, env):
    token = tokens[idx]
    src = token.attrGet("src") or ""
    alt = renderer.renderInlineAsText(token.children or [], options, env)
    if OWN_IMAGE_SRC.match(src):
        return f'<img src="{src}" alt="{_escape(alt)}" loading="lazy">'
    # Anything else (external, data:, javascript:) would leak the reader's visit or smuggle content: keep the text.
    return _escape(alt)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


_md.add_render_rule("image", _image)


def _img_attribute_filter(tag: str, attr: str, value: str) -> str | None:
    # Second wall: whatever produced the <img>, only our own upload URLs survive.
    if tag == "img" and attr == "src" and not OWN_IMAGE_SRC.match(value):
        return None
    return value


def render_tip(text: str) -> str:
    html = _md.render(text or "")
    attributes = dict(ALLOWED_ATTRIBUTES)
    attributes["img"] = {"src", "alt", "loading"}
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS | {"img"},
        attributes=attributes,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        attribute_filter=_img_attribute_filter,
    )
    # An <img> whose src the filter dropped shows nothing useful; remove it.
    return re.sub(r"<img(?![^>]*\ssrc=)[^>]*>", "", cleaned)
