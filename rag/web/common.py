"""What every part of ``rag.web`` shares: limits, the user agent, ``FetchError`` and its Japanese messages,
lazily read settings."""

from __future__ import annotations

import ipaddress
from contextlib import suppress
from urllib.parse import urlsplit, urlunsplit

ROBOTS_AGENT = "AkagiBot"  # the token robots.txt rules are matched against
USER_AGENT = "Mozilla/5.0 (compatible; AkagiBot/1.0)"
MAX_REDIRECTS = 5
MAX_META_REFRESH = 2
CONNECT_TIMEOUT = 10.0
ROBOTS_MAX_BYTES = 512 * 1024  # RFC 9309: parse at least 500 KiB
MAX_CRAWL_DELAY = 10.0  # a robots.txt Crawl-delay above this is capped
DEFAULT_MAX_FILE_BYTES = 50 * 1024 * 1024  # the same default as uploads

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# ---------------------------------------------------------------------------------------------------------------
# Errors

BLOCKED_MESSAGE = "このアドレスは内部ネットワークのため取得できません（運用担当者が許可した場合のみ取得できます）。"
METADATA_MESSAGE = "このアドレスはクラウド基盤の管理用アドレスのため取得できません。"
EMPTY_MESSAGE = (
    "ページに本文が見つかりませんでした（JavaScript で内容を表示するページや、画像だけのページは読み込めません）。"
)
ROBOTS_MESSAGE = "サイトの robots.txt により、このページの取得は許可されていません。"


class FetchError(Exception):
    """A page that cannot be fetched. ``user_message`` is Japanese, says what to do, and is shown as is.

    ``code`` is for programs and tests: bad_url, bad_scheme, credentials, blocked_address, metadata_address, dns,
    connect, tls, proxy, timeout, too_large, too_many_redirects, http_status, not_html, file, empty, robots,
    robots_unreachable, network.
    """

    def __init__(self, user_message: str, *, code: str = "error", url: str = "", status: int | None = None):
        super().__init__(user_message)
        self.user_message = user_message
        self.code = code
        self.url = url
        self.status = status


def _mb(limit: int) -> str:
    return f"{limit / 1_000_000:g}"


def _timeout_error(seconds: float, url: str) -> FetchError:
    return FetchError(
        f"ページの取得が {seconds:g} 秒以内に終わらなかったため中止しました。時間をおいて再度お試しください。",
        code="timeout",
        url=url,
    )


def _too_large_error(limit: int, url: str) -> FetchError:
    return FetchError(f"ページが大きすぎるため取得を中止しました（上限 {_mb(limit)} MB）。", code="too_large", url=url)


def _status_error(status: int, url: str) -> FetchError:
    if status in (404, 410):
        message = f"ページが見つかりません（HTTP {status}）。アドレスが正しいか確認してください。"
    elif status in (401, 403, 407):
        message = (
            f"このページへのアクセスが許可されていません（HTTP {status}）。公開されているページか確認してください。"
        )
    elif status == 429:
        message = "サーバーが混み合っているため取得できませんでした（HTTP 429）。時間をおいて再度お試しください。"
    elif status >= 500:
        message = (
            f"サーバーでエラーが発生したため取得できませんでした（HTTP {status}）。時間をおいて再度お試しください。"
        )
    elif 300 <= status < 400:
        message = f"転送先が示されていないため取得できませんでした（HTTP {status}）。"
    else:
        message = f"ページを取得できませんでした（HTTP {status}）。"
    return FetchError(message, code="http_status", url=url, status=status)


def _redact(url: str) -> str:
    """A URL for logs: any user:password part removed."""
    with suppress(ValueError):
        parts = urlsplit(url)
        if "@" in parts.netloc:
            return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]))
    return url[:500]



# ---------------------------------------------------------------------------------------------------------------
# Settings (read lazily; the module works without Django configured)


def _setting(name: str, default):
    try:
        from django.conf import settings

        return getattr(settings, name, default)
    except Exception:  # Django missing or not configured: the defaults apply
        return default


def _setting_list(name: str) -> list[str]:
    value = _setting(name, None) or []
    if isinstance(value, str):
        value = value.split(",")
    return [str(item).strip() for item in value if str(item).strip()]


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())
