"""robots.txt, fetched through the same checked fetcher as pages."""

from __future__ import annotations

import logging
import time
import urllib.robotparser
from contextlib import closing
from urllib.parse import urlsplit

from .common import MAX_CRAWL_DELAY, ROBOTS_AGENT, ROBOTS_MAX_BYTES, ROBOTS_MESSAGE, FetchError
from .transport import _Fetcher

logger = logging.getLogger(__name__)


class _Robots:
    """robots.txt per origin, fetched through the same checked fetcher (RFC 9309).

    2xx: parsed; 4xx: no rules (everything allowed); 5xx, 429 or unreachable: everything disallowed.
    """

    def __init__(self, fetcher: _Fetcher, timeout: float):
        self._fetcher = fetcher
        self._timeout = timeout
        self._rules: dict[str, tuple[urllib.robotparser.RobotFileParser, bool]] = {}

    def check(self, url: str) -> None:
        rules, unreachable = self._load(url)
        if rules.can_fetch(ROBOTS_AGENT, url):
            return
        if unreachable:
            raise FetchError(
                "サイトの robots.txt を確認できなかったため、取得を控えました。時間をおいて再度お試しください。",
                code="robots_unreachable",
                url=url,
            )
        raise FetchError(ROBOTS_MESSAGE, code="robots", url=url)

    def crawl_delay(self, url: str) -> float:
        rules, _ = self._load(url)
        delay = rules.crawl_delay(ROBOTS_AGENT)
        try:
            return min(float(delay or 0), MAX_CRAWL_DELAY)
        except (TypeError, ValueError):
            return 0.0

    def _load(self, url: str) -> tuple[urllib.robotparser.RobotFileParser, bool]:
        parts = urlsplit(url)
        origin = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
        if origin in self._rules:
            return self._rules[origin]
        rules = urllib.robotparser.RobotFileParser(origin + "/robots.txt")
        unreachable = False
        try:
            deadline = time.monotonic() + self._timeout
            with closing(self._fetcher.open(origin + "/robots.txt", deadline=deadline)) as response:
                if 200 <= response.status < 300:
                    body = response.read(ROBOTS_MAX_BYTES, truncate=True)
                    rules.parse(body.decode("utf-8", errors="replace").splitlines())
                elif response.status == 429 or response.status >= 500:
                    rules.disallow_all = unreachable = True
                else:
                    rules.allow_all = True
        except FetchError as error:
            if error.code in ("blocked_address", "metadata_address", "bad_url", "bad_scheme", "credentials"):
                raise
            logger.info("robots.txt at %s unreachable (%s): not crawling it", origin, error.code)
            rules.disallow_all = unreachable = True
        rules.modified()  # can_fetch() refuses everything until the parser has a check time
        self._rules[origin] = (rules, unreachable)
        return self._rules[origin]
