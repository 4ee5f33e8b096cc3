"""One URL to a result: an HTML page's main text (``FetchedPage``) or a linked document (``FetchedFile``)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from contextlib import closing, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from .common import (
    DEFAULT_MAX_FILE_BYTES,
    EMPTY_MESSAGE,
    MAX_META_REFRESH,
    ROBOTS_AGENT,
    FetchError,
    _status_error,
    _too_large_error,
    _word_set,
)
from .decoding import decode_html
from .extraction import extract_main_text
from .transport import _Fetcher, _Response

# ---------------------------------------------------------------------------------------------------------------
# Results


@dataclass(slots=True)
class FetchedPage:
    """An HTML page: its main text in sections, each with the headings above it (``heading_path``)."""

    final_url: str
    status: int
    content_type: str
    title: str
    text_sections: list[tuple[list[str], str]]
    links: list[str]  # absolute http(s) URLs on the same host as final_url, fragment dropped, in page order
    fetched_at: datetime
    url: str = ""  # as requested
    redirects: list[str] = field(default_factory=list)  # the hops before final_url
    encoding: str = ""
    external_links: list[str] = field(default_factory=list)  # http(s) links to other hosts
    depth: int = 0  # in a crawl: 0 for the start page
    noindex: bool = False  # <meta name="robots"> / X-Robots-Tag
    nofollow: bool = False

    @property
    def text(self) -> str:
        return "\n".join(text for _, text in self.text_sections)


@dataclass(slots=True)
class FetchedFile:
    """A PDF, Office, CSV or text file reached by URL, handed back as bytes for ``rag.parsing.parse``.

    ``filename`` ends with the extension of the detected type (the parser checks the content again).
    """

    final_url: str
    status: int
    content_type: str
    filename: str
    data: bytes
    fetched_at: datetime
    url: str = ""
    redirects: list[str] = field(default_factory=list)
    depth: int = 0


_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_FILE_TYPES = {
    "application/pdf": "pdf",
    "application/x-pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "application/msword": "doc",
    "application/vnd.ms-excel": "xls",
    "application/vnd.ms-powerpoint": "ppt",
    "text/csv": "csv",
    "text/plain": "txt",
    "text/markdown": "md",
    "text/x-markdown": "md",
}
FILE_EXTENSIONS = frozenset(_FILE_TYPES.values())
_GENERIC_TYPES = frozenset(
    {"", "application/octet-stream", "binary/octet-stream", "application/x-download", "application/download",
     "application/force-download", "application/unknown"}
)
# Links a crawl never requests: what they point to can be neither a page nor a document.
_SKIPPED_EXTENSIONS = _word_set(
    "jpg jpeg png gif bmp webp svg ico tif tiff css js json xml rss atom mp3 mp4 m4a wav wma wmv avi mov mpg mpeg "
    "flv webm zip lzh lha gz tgz tar 7z rar exe msi dmg iso apk jar woff woff2 ttf otf eot swf ics kml kmz dxf "
    "jtd jww"
)


def _extension(url_or_name: str) -> str:
    try:
        path = urlsplit(url_or_name).path if "://" in url_or_name else url_or_name
    except ValueError:
        return ""
    return PurePosixPath(unquote(path)).suffix.lower().lstrip(".")


def _disposition_filename(value: str) -> str:
    match = re.search(r"filename\*\s*=\s*([\w\-]+)'[^']*'([^;]+)", value, re.IGNORECASE)
    if match:
        with suppress(LookupError, UnicodeDecodeError):
            return unquote(match.group(2).strip().strip('"'), encoding=match.group(1), errors="strict")
    match = re.search(r"filename\s*=\s*(\"([^\"]*)\"|[^;]+)", value, re.IGNORECASE)
    if not match:
        return ""
    name = (match.group(2) if match.group(2) is not None else match.group(1)).strip()
    with suppress(UnicodeError):  # raw UTF-8 or CP932 bytes arrive as Latin-1 text
        raw = name.encode("latin-1")
        for encoding in ("utf-8", "cp932"):
            with suppress(UnicodeDecodeError):
                return raw.decode(encoding)
    return unquote(name)


def _file_name(response: _Response, ext: str) -> str:
    name = _disposition_filename(response.headers.get("content-disposition", ""))
    if not name:
        with suppress(ValueError):
            name = unquote(PurePosixPath(urlsplit(response.final_url).path).name)
    name = PurePosixPath(name.replace("\\", "/")).name
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip() or "download"
    if PurePosixPath(name).suffix.lower().lstrip(".") != ext:
        name = f"{name}.{ext}"
    return name[-150:]


def _kind(response: _Response) -> tuple[str, str]:
    """("html", ""), ("file", ext), ("unknown", "") when the body must be sniffed, or ("other", "")."""
    content_type = response.content_type
    if content_type in _HTML_TYPES:
        return "html", ""
    disposition_ext = _extension(_disposition_filename(response.headers.get("content-disposition", "")))
    url_ext = _extension(response.final_url)
    if content_type in _FILE_TYPES:
        mapped = _FILE_TYPES[content_type]
        # text/plain may be a CSV or Markdown file; the name tells.
        if mapped in ("txt", "csv", "md"):
            for ext in (disposition_ext, url_ext):
                if ext in ("txt", "csv", "md"):
                    return "file", ext
        return "file", mapped
    if content_type in _GENERIC_TYPES:
        for ext in (disposition_ext, url_ext):
            if ext in FILE_EXTENSIONS:
                return "file", ext
        return "unknown", ""
    return "other", ""


def _sniff(body: bytes) -> tuple[str, str]:
    head = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head[:512]:
        return "html", ""
    if body.startswith(b"%PDF-"):
        return "file", "pdf"
    return "other", ""


def _not_html(content_type: str, url: str) -> FetchError:
    shown = content_type or "不明"
    return FetchError(
        f"このアドレスは Web ページ（HTML）ではないため取得できません（種類: {shown}）。", code="not_html", url=url
    )


def _robots_header(response: _Response) -> set[str]:
    tokens: set[str] = set()
    for value in response.headers.get_list("x-robots-tag"):
        for part in value.split(","):
            part = part.strip().lower()
            if ":" in part:  # "akagibot: noindex" or "googlebot: ..."
                agent, _, part = part.partition(":")
                if agent.strip() not in (ROBOTS_AGENT.lower(), "*"):
                    continue
            tokens.add(part.strip())
    return tokens


def _fetch(
    fetcher: _Fetcher,
    url: str,
    *,
    deadline: float,
    max_bytes: int,
    max_file_bytes: int,
    accept_files: bool,
    depth: int = 0,
) -> FetchedPage | FetchedFile:
    requested = url
    earlier: list[str] = []
    for refresh in range(MAX_META_REFRESH + 1):
        fetched_at = datetime.now(UTC)
        with closing(fetcher.open(url, deadline=deadline)) as response:
            if not 200 <= response.status < 300:
                raise _status_error(response.status, response.final_url)
            kind, ext = _kind(response)
            if kind == "other":
                raise _not_html(response.content_type, response.final_url)
            if kind == "file" and not accept_files:
                raise FetchError(
                    "このアドレスは Web ページではなく PDF や Office などのファイルです。"
                    "ファイルとして追加してください。",
                    code="file",
                    url=response.final_url,
                )
            limits = {"html": max_bytes, "file": max_file_bytes}
            body = response.read(limits.get(kind, max(max_bytes, max_file_bytes)))
            if kind == "unknown":
                kind, ext = _sniff(body)
                if kind == "other" or (kind == "file" and not accept_files):
                    raise _not_html(response.content_type, response.final_url)
                if len(body) > limits[kind]:
                    raise _too_large_error(limits[kind], response.final_url)
            redirects = [*earlier, *response.redirects]
            if kind == "file":
                return FetchedFile(
                    final_url=response.final_url,
                    status=response.status,
                    content_type=response.content_type or "application/octet-stream",
                    filename=_file_name(response, ext),
                    data=body,
                    fetched_at=fetched_at,
                    url=requested,
                    redirects=redirects,
                    depth=depth,
                )
            text, encoding = decode_html(body, response.charset)
            extracted = extract_main_text(text, base_url=response.final_url)
            robots = _robots_header(response) | extracted.robots
            page = FetchedPage(
                final_url=response.final_url,
                status=response.status,
                content_type=response.content_type or "text/html",
                title=extracted.title,
                text_sections=extracted.sections,
                links=extracted.links,
                fetched_at=fetched_at,
                url=requested,
                redirects=redirects,
                encoding=encoding,
                external_links=extracted.external_links,
                depth=depth,
                noindex=bool(robots & {"noindex", "none"}),
                nofollow=bool(robots & {"nofollow", "none"}),
            )
        # An empty page that only says <meta http-equiv="refresh" content="0; url=..."> (common on old
        # municipal top pages) is a redirect: follow it through the same checks.
        if page.text_sections or not extracted.refresh_url or refresh == MAX_META_REFRESH:
            return page
        earlier = [*redirects, page.final_url]
        url = extracted.refresh_url
    return page  # pragma: no cover


def fetch_page(
    url: str,
    *,
    proxy: str | None = None,
    allow_hosts: Iterable[str] = (),
    max_bytes: int = 10_000_000,
    timeout: float = 20,
    accept_files: bool = False,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> FetchedPage | FetchedFile:
    """Fetch one web page and extract its main text; raise FetchError (Japanese) when that is impossible.

    ``proxy``: None uses AKAGI_HTTP_PROXY or the environment, ``""`` none, a URL that proxy. ``allow_hosts`` adds
    to AKAGI_RAG_ALLOWED_HOSTS. ``timeout`` bounds the whole fetch, redirects included. With ``accept_files`` a
    PDF, Office, CSV or text file comes back as a FetchedFile (up to ``max_file_bytes``) instead of an error.
    A page with no main text raises FetchError(code="empty").
    """
    with _Fetcher(proxy=proxy, allow_hosts=allow_hosts, timeout=timeout) as fetcher:
        result = _fetch(
            fetcher,
            url,
            deadline=time.monotonic() + timeout,
            max_bytes=max_bytes,
            max_file_bytes=max_file_bytes,
            accept_files=accept_files,
        )
    if isinstance(result, FetchedPage) and not result.text_sections:
        raise FetchError(EMPTY_MESSAGE, code="empty", url=result.final_url)
    return result
