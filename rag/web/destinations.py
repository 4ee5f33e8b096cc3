"""URLs to checked destinations: parsing, one DNS resolution per hop, the address check, and the proxy route."""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time
import urllib.request
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx

from .addresses import AllowList, _allow_list, _parse_ip, address_problem
from .common import (
    BLOCKED_MESSAGE,
    CONNECT_TIMEOUT,
    METADATA_MESSAGE,
    Address,
    FetchError,
    _redact,
    _setting,
)

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------------------------
# URLs and destinations


def _parse_url(url: str) -> httpx.URL:
    """The URL as httpx will use it, or FetchError for what must never be fetched."""
    text = url.strip() if isinstance(url, str) else ""
    try:
        parsed = httpx.URL(text)
    except (httpx.InvalidURL, ValueError, TypeError, UnicodeError) as error:
        raise FetchError("アドレスの形式が正しくありません。", code="bad_url", url=_redact(text)) from error
    if parsed.scheme not in ("http", "https"):
        raise FetchError("http または https で始まるアドレスのみ取得できます。", code="bad_scheme", url=_redact(text))
    if parsed.userinfo:
        raise FetchError(
            "ユーザー名やパスワードを含むアドレスは取得できません。", code="credentials", url=_redact(text)
        )
    if not parsed.raw_host:
        raise FetchError("アドレスにホスト名がありません。", code="bad_url", url=_redact(text))
    return parsed.copy_with(fragment=None)


def _host_of(url: httpx.URL) -> str:
    return url.raw_host.decode("ascii").lower().rstrip(".")


def _host_header(url: httpx.URL) -> str:
    host = url.raw_host.decode("ascii")
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{url.port}" if url.port else host


@dataclass(frozen=True, slots=True)
class Destination:
    """One checked hop: the URL, and the addresses the connection may go to (in resolver order).

    ``addresses`` is empty only behind a proxy, when the name did not resolve locally (then the proxy resolves it).
    """

    url: httpx.URL
    host: str
    addresses: tuple[Address, ...]
    proxy: str | None = None


def _resolve(host: str, port: int, seconds: float, url: str) -> list[Address]:
    literal = _parse_ip(host)
    if literal is not None:
        return [literal]
    box: dict = {}

    def lookup() -> None:
        try:
            box["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as error:
            box["error"] = error

    thread = threading.Thread(target=lookup, name="akagi-web-dns", daemon=True)
    thread.start()
    thread.join(max(seconds, 0.05))
    if thread.is_alive():
        raise FetchError(
            "ホスト名の確認（DNS）が時間内に終わりませんでした。時間をおいて再度お試しください。",
            code="timeout",
            url=url,
        )
    if "error" in box:
        error = box["error"]
        if isinstance(error, OSError):
            raise error
        raise OSError(f"cannot resolve {host!r}") from error
    addresses: list[Address] = []
    for family, *_, sockaddr in box["infos"]:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        ip = _parse_ip(str(sockaddr[0]))
        if ip is None:
            raise OSError(f"unparsable address {sockaddr[0]!r}")
        if ip not in addresses:
            addresses.append(ip)
    return addresses


def _check_destination(
    url: str, allow: AllowList, *, proxy: str | None = None, deadline: float | None = None
) -> Destination:
    parsed = _parse_url(url)
    host = _host_of(parsed)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    seconds = (deadline - time.monotonic()) if deadline is not None else CONNECT_TIMEOUT
    shown = _redact(str(parsed))
    try:
        addresses = _resolve(host, port, seconds, shown)
    except OSError as error:
        if not proxy:
            raise FetchError(
                f"ホスト名「{host}」が見つかりません。アドレスが正しいか確認してください。", code="dns", url=shown
            ) from error
        # Behind a proxy the name may only be resolvable by the proxy (LGWAN): best effort ends here.
        logger.info("%s does not resolve locally; handing it to the proxy unchecked", host)
        addresses = []
    if not addresses and not proxy:
        raise FetchError(
            f"ホスト名「{host}」が見つかりません。アドレスが正しいか確認してください。", code="dns", url=shown
        )
    host_allowed = allow.permits_host(host)
    for ip in addresses:
        problem = address_problem(ip)
        if problem == "metadata":
            logger.warning("refused %s: %s is a cloud metadata address", shown, ip)
            raise FetchError(METADATA_MESSAGE, code="metadata_address", url=shown)
        if problem and not host_allowed and not allow.permits_address(ip):
            logger.warning("refused %s: %s resolves to %s (%s)", shown, host, ip, problem)
            raise FetchError(BLOCKED_MESSAGE, code="blocked_address", url=shown)
    return Destination(parsed, host, tuple(addresses), proxy)


def check_destination(url: str, *, allow_hosts: Iterable[str] = (), proxy: str | None = "") -> Destination:
    """Check a URL the way every fetch hop is checked, without connecting (e.g. to validate a form).

    Raises FetchError (Japanese) for a bad scheme, credentials, an unknown host, or any internal address.
    ``proxy`` as in ``fetch_page``; the default ``""`` checks as a direct connection would.
    """
    proxies = _Proxies(proxy)
    parsed = _parse_url(url)
    return _check_destination(url, _allow_list(allow_hosts), proxy=proxies.for_url(parsed))


def normalize_url(url: str) -> str:
    """A key for de-duplication: scheme and host lower-cased, default port, fragment and trailing slash dropped."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").rstrip(".")
        port = parts.port
    except ValueError:
        return url.strip()
    scheme = parts.scheme.lower()
    netloc = f"[{host}]" if ":" in host else host
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        netloc += f":{port}"
    path = parts.path or "/"
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    return urlunsplit((scheme, netloc, path, parts.query, ""))


def _url_host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").rstrip(".")
    except ValueError:
        return ""


def _strip_fragment(url: str) -> str:
    try:
        return urlunsplit(urlsplit(url)._replace(fragment=""))
    except ValueError:
        return url


# ---------------------------------------------------------------------------------------------------------------
# Proxies


class _Proxies:
    """Which proxy a URL goes through. ``proxy=None``: AKAGI_HTTP_PROXY, else HTTPS_PROXY / HTTP_PROXY / ALL_PROXY
    from the environment, minus NO_PROXY (or AKAGI_HTTP_NO_PROXY); ``""``: none; a URL: that proxy for all."""

    def __init__(self, proxy: str | None):
        env = urllib.request.getproxies_environment()
        self.no_proxy = ""
        if proxy is not None:
            self.by_scheme = {"http": proxy, "https": proxy} if proxy else {}
            return
        configured = str(_setting("AKAGI_HTTP_PROXY", "") or "").strip()
        if configured:
            self.by_scheme = {"http": configured, "https": configured}
        else:
            self.by_scheme = {
                scheme: value for scheme in ("http", "https") if (value := env.get(scheme) or env.get("all"))
            }
        self.no_proxy = str(_setting("AKAGI_HTTP_NO_PROXY", "") or env.get("no", "") or "")

    def for_url(self, url: httpx.URL) -> str | None:
        proxy = self.by_scheme.get(url.scheme)
        if not proxy or self._bypass(_host_of(url)):
            return None
        if not proxy.startswith(("http://", "https://")):
            raise FetchError(
                "プロキシの設定が正しくありません（http:// で始まるアドレスを指定します）。"
                "運用担当者に確認してください。",
                code="proxy",
            )
        return proxy

    def _bypass(self, host: str) -> bool:
        ip = _parse_ip(host)
        for raw in self.no_proxy.split(","):
            entry = raw.strip().lower()
            if not entry:
                continue
            if entry == "*":
                return True
            network = None
            with suppress(ValueError):
                network = ipaddress.ip_network(entry.strip("[]"), strict=False)
            if network is not None:
                if ip is not None and ip in network:
                    return True
                continue
            entry = entry.rsplit(":", 1)[0] if entry.count(":") == 1 else entry
            entry = entry.lstrip("*").lstrip(".")
            if entry and (host == entry or host.endswith("." + entry)):
                return True
        return False
