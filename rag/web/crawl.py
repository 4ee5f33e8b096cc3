"""A site crawled breadth-first within its host, politely (robots.txt, Crawl-delay, a time budget)."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable

from .common import DEFAULT_MAX_FILE_BYTES, EMPTY_MESSAGE, FetchError, _redact, _setting
from .destinations import _parse_url, _strip_fragment, _url_host, normalize_url
from .fetching import _SKIPPED_EXTENSIONS, FILE_EXTENSIONS, FetchedFile, FetchedPage, _extension, _fetch
from .robots import _Robots
from .transport import _Fetcher

logger = logging.getLogger(__name__)


def crawl(
    start_url: str,
    *,
    depth: int = 1,
    max_pages: int = 50,
    same_host_only: bool = True,
    respect_robots: bool = True,
    proxy: str | None = None,
    allow_hosts: Iterable[str] = (),
    on_page: Callable[[FetchedPage | FetchedFile], None] | None = None,
    on_skip: Callable[[str, FetchError], None] | None = None,
    include_files: bool = True,
    max_bytes: int = 10_000_000,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    timeout: float = 20,
    delay: float | None = None,
    time_budget: float | None = None,
) -> list[FetchedPage | FetchedFile]:
    """Breadth-first from ``start_url`` to ``depth`` links away (0: the start page only), at most ``max_pages``.

    Every request goes through the same checks as ``fetch_page``. The site is the start URL's host and the host it
    redirects to (http://city.example.lg.jp → https://www.city.example.lg.jp). robots.txt (agent "AkagiBot"),
    ``<meta name="robots" content="noindex/nofollow">`` and Crawl-delay are honoured when ``respect_robots``.
    URLs are de-duplicated by ``normalize_url`` (fragments, trailing slashes, default ports), final URLs too.
    Linked PDF/Office/CSV files come back as FetchedFile when ``include_files``; pages without main text are
    followed but not returned. ``on_page`` is called with each result as it arrives, ``on_skip(url, error)``
    with each URL left out. ``delay`` (default AKAGI_RAG_CRAWL_DELAY, 1 s) spaces requests to one host;
    ``time_budget`` (default AKAGI_RAG_CRAWL_SECONDS, 1800 s) ends the crawl early with what was found.
    Raises FetchError when the start page cannot be fetched or nothing with text was found.
    """
    if depth < 0 or max_pages < 1:
        raise ValueError("depth must be >= 0 and max_pages >= 1")
    delay = float(_setting("AKAGI_RAG_CRAWL_DELAY", 1.0) if delay is None else delay)
    budget = float(_setting("AKAGI_RAG_CRAWL_SECONDS", 1800) if time_budget is None else time_budget)
    ends = time.monotonic() + budget
    start = _strip_fragment(start_url.strip())
    _parse_url(start)  # a bad scheme or credentials fail before anything is requested
    results: list[FetchedPage | FetchedFile] = []
    skipped: list[FetchError] = []
    last_request: dict[str, float] = {}

    def skip(url: str, error: FetchError) -> None:
        skipped.append(error)
        if on_skip is not None:
            on_skip(url, error)

    with _Fetcher(proxy=proxy, allow_hosts=allow_hosts, timeout=timeout) as fetcher:
        robots = _Robots(fetcher, timeout) if respect_robots else None
        site = {_url_host(start).lower()}
        seen = {normalize_url(start)}
        done: set[str] = set()
        queue: deque[tuple[str, int]] = deque([(start, 0)])
        while queue and len(results) < max_pages:
            if time.monotonic() > ends:
                logger.info("crawl of %s stopped by its time budget after %d results", _redact(start), len(results))
                break
            url, level = queue.popleft()
            host = _url_host(url).lower()
            try:
                if robots is not None:
                    robots.check(url)
                wait = max(delay, robots.crawl_delay(url) if robots is not None else 0.0)
                pause = last_request.get(host, -1e9) + wait - time.monotonic()
                if pause > 0:
                    time.sleep(min(pause, max(ends - time.monotonic(), 0)))
                last_request[host] = time.monotonic()
                result = _fetch(
                    fetcher,
                    url,
                    deadline=time.monotonic() + timeout,
                    max_bytes=max_bytes,
                    max_file_bytes=max_file_bytes,
                    accept_files=include_files,
                    depth=level,
                )
                if robots is not None and result.redirects:
                    robots.check(result.final_url)
            except FetchError as error:
                if level == 0:
                    raise
                skip(url, error)
                continue
            final_host = _url_host(result.final_url).lower()
            if level == 0:
                site.add(final_host)
            key = normalize_url(result.final_url)
            if key in done:
                continue  # reached again through a redirect
            done.add(key)
            seen.add(key)
            if same_host_only and final_host not in site:
                skip(url, FetchError("サイトの外へ転送されたため取得しませんでした。", code="other_host", url=url))
                continue
            if isinstance(result, FetchedPage):
                if level < depth and not (robots is not None and result.nofollow):
                    candidates = result.links if same_host_only else [*result.links, *result.external_links]
                    for link in candidates:
                        if same_host_only and _url_host(link).lower() not in site:
                            continue
                        ext = _extension(link)
                        if ext in _SKIPPED_EXTENSIONS or (ext in FILE_EXTENSIONS and not include_files):
                            continue
                        link_key = normalize_url(link)
                        if link_key not in seen:
                            seen.add(link_key)
                            queue.append((link, level + 1))
                if robots is not None and result.noindex:
                    skip(url, FetchError("ページの設定（noindex）により取り込みませんでした。", code="robots", url=url))
                    continue
                if not result.text_sections:
                    skip(url, FetchError(EMPTY_MESSAGE, code="empty", url=result.final_url))
                    continue
            results.append(result)
            if on_page is not None:
                on_page(result)
    if not results:
        raise skipped[0] if len(skipped) == 1 else FetchError(EMPTY_MESSAGE, code="empty", url=_redact(start))
    return results
