"""Web pages for the knowledge base, fetched safely: ``fetch_page(url)`` and ``crawl(start_url, depth=...)``.

A pure module: no models, no other project app; Django settings are read lazily and all have defaults.

What a URL typed by any user may reach (server-side request forgery):

- only ``http``/``https``, no user name or password in the URL;
- on every hop (redirects are followed here, never by httpx, at most ``MAX_REDIRECTS``; ``<meta refresh>`` too)
  the host is resolved once and every A/AAAA record must be a public address (``address_problem``): loopback,
  private, shared (CGNAT), link-local, multicast, reserved, unspecified, documentation, IPv4-mapped / NAT64 /
  6to4 forms of those are refused, unless the operator allow-list permits the host name or the address
  (``AKAGI_RAG_ALLOWED_HOSTS``: ``host.example.lg.jp``, ``*.example.lg.jp`` or a CIDR; callers add
  ``allow_hosts``). Cloud metadata addresses (169.254.169.254 and friends) are refused even when allow-listed;
- the connection then goes to the address that was checked, not to the name: httpx gets a URL with the IP in it,
  the ``Host`` header carries the name, and for https the TLS SNI and the certificate check use the name
  (httpcore's ``sni_hostname`` extension). A second, different DNS answer (DNS rebinding) is never used. One
  httpx client per host name, so a pooled TLS connection is never reused for another name on the same IP;
- the body is streamed and cut at ``max_bytes`` (``Content-Length`` is checked first); all hops of one fetch
  share one deadline; cookies are never kept.

Known limits:

- Through a proxy (``proxy=``, ``AKAGI_HTTP_PROXY`` or the ``HTTP(S)_PROXY`` environment; LGWAN reaches the
  internet through one) the proxy resolves the name and connects, so the address cannot be pinned. The name is
  still resolved here and refused if any address is internal (best effort: the proxy's DNS may answer
  differently), and when it does not resolve here at all (LGWAN terminals often have no internet DNS) the request
  goes to the proxy unchecked. The proxy's own rules must keep it out of internal networks. ``NO_PROXY`` (or
  ``AKAGI_HTTP_NO_PROXY``) sends matching hosts directly, with pinning.
- The deadline is checked between received chunks and bounds each wait to the time remaining when the hop
  started, so a fetch ends within about twice ``timeout`` in the worst case. DNS lookups run in a helper thread
  bounded by the deadline (a stuck lookup thread is abandoned, not killed).
- gzip/deflate bodies are counted after decompression; one received chunk may inflate (about 1000x at most)
  before the cap is checked.
- Ports are not restricted (LGWAN sites use 8080 and the like).
"""

from __future__ import annotations

import codecs
import http.cookiejar
import ipaddress
import itertools
import logging
import os
import re
import socket
import ssl
import threading
import time
import urllib.request
import urllib.robotparser
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import PurePosixPath
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import httpx

__all__ = [
    "BLOCKED_MESSAGE",
    "EMPTY_MESSAGE",
    "FILE_EXTENSIONS",
    "MAX_REDIRECTS",
    "METADATA_MESSAGE",
    "ROBOTS_MESSAGE",
    "USER_AGENT",
    "AllowList",
    "Destination",
    "ExtractedHtml",
    "FetchError",
    "FetchedFile",
    "FetchedPage",
    "address_problem",
    "check_destination",
    "crawl",
    "decode_html",
    "extract_main_text",
    "fetch_page",
    "normalize_url",
]

logger = logging.getLogger(__name__)

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


# ---------------------------------------------------------------------------------------------------------------
# Address classification and the allow-list

METADATA_ADDRESSES: frozenset[Address] = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "169.254.169.254",  # AWS, Azure, GCP, OpenStack, OCI instance metadata
        "169.254.170.2",  # AWS ECS task metadata
        "168.63.129.16",  # Azure WireServer: a public-looking address every Azure VM can reach
        "100.100.100.200",  # Alibaba Cloud metadata
        "fd00:ec2::254",  # AWS instance metadata over IPv6
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT
# Not global, though some Python versions call them global.
_ALSO_BLOCKED: tuple[Network, ...] = tuple(
    ipaddress.ip_network(network)
    for network in (
        "192.0.0.0/24",  # IETF protocol assignments
        "192.88.99.0/24",  # deprecated 6to4 relay anycast
        "198.18.0.0/15",  # benchmarking
        "64:ff9b:1::/48",  # local-use NAT64
        "2001:db8::/32",  # documentation
        "fec0::/10",  # deprecated site-local
    )
)


def address_problem(address: str | Address) -> str | None:
    """Why ``address`` is not a public internet destination, or ``None`` when it is.

    The answer is one of "metadata", "unspecified", "loopback", "link-local", "multicast", "reserved", "private",
    "shared" (carrier-grade NAT). IPv6 forms that carry an IPv4 address (IPv4-mapped ``::ffff:a.b.c.d``, NAT64
    ``64:ff9b::a.b.c.d``, 6to4 ``2002:aabb:ccdd::``) are judged by the IPv4 address they carry.
    """
    ip = address if isinstance(address, ipaddress.IPv4Address | ipaddress.IPv6Address) else _parse_ip(address)
    if ip is None:
        return "reserved"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            ip = ipaddress.IPv6Address(str(ip).split("%", 1)[0])
        if ip in METADATA_ADDRESSES:
            return "metadata"
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return address_problem(embedded)
    if ip in METADATA_ADDRESSES:
        return "metadata"
    checks = (
        (ip.is_unspecified, "unspecified"),
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (ip.is_multicast, "multicast"),
        (ip.is_reserved, "reserved"),
        (ip in _SHARED, "shared"),
        (ip.is_private, "private"),
        (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local, "private"),
        (any(ip in network for network in _ALSO_BLOCKED), "reserved"),
        (not ip.is_global, "reserved"),
    )
    return next((problem for failed, problem in checks if failed), None)


def _parse_ip(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class AllowList:
    """Hosts the operator lets Akagi fetch even though they resolve to internal addresses.

    Entries: an exact host name (``portal.city.example.lg.jp``), a suffix (``*.city.example.lg.jp`` or
    ``.city.example.lg.jp``, which also matches the bare name) or an address / CIDR (``10.20.0.0/16``,
    ``fd12::/48``). Invalid entries are ignored with a warning. Metadata addresses are never allowed.
    """

    names: frozenset[str] = frozenset()
    suffixes: tuple[str, ...] = ()
    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowList:
        names: set[str] = set()
        suffixes: list[str] = []
        networks: list[Network] = []
        for raw in entries:
            entry = str(raw).strip().lower()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
                continue
            except ValueError:
                pass
            if entry.startswith(("*.", ".")):
                suffix = entry.lstrip("*").lstrip(".").rstrip(".")
                if suffix:
                    suffixes.append(suffix)
                continue
            if re.fullmatch(r"[a-z0-9_.\-]+", entry):
                names.add(entry.rstrip("."))
            else:
                logger.warning("AKAGI_RAG_ALLOWED_HOSTS: ignoring %r (not a host name, *.suffix or CIDR)", raw)
        return cls(frozenset(names), tuple(suffixes), tuple(networks))

    def permits_host(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return host in self.names or any(host == s or host.endswith("." + s) for s in self.suffixes)

    def permits_address(self, ip: Address) -> bool:
        if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
            ip = ipaddress.IPv6Address(str(ip).split("%", 1)[0])
        candidates = [ip]
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            candidates.append(ip.ipv4_mapped)
        return any(candidate in network for candidate in candidates for network in self.networks)


def _allow_list(extra: Iterable[str]) -> AllowList:
    if isinstance(extra, str):
        extra = [extra]
    return AllowList.parse([*_setting_list("AKAGI_RAG_ALLOWED_HOSTS"), *extra])


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


# ---------------------------------------------------------------------------------------------------------------
# The safe fetcher

_REDIRECTS = (301, 302, 303, 307, 308)
_HEADERS = {
    "User-Agent": USER_AGENT,
    "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "ja,en;q=0.5",
    "Accept-Encoding": "gzip, deflate",
}


def _no_cookies() -> http.cookiejar.CookieJar:
    return http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))


def _verify() -> ssl.SSLContext | bool:
    """TLS trust: AKAGI_HTTP_CA_BUNDLE or SSL_CERT_FILE (an LGWAN proxy that inspects TLS has its own CA)."""
    bundle = str(_setting("AKAGI_HTTP_CA_BUNDLE", "") or os.environ.get("SSL_CERT_FILE", "") or "")
    if not bundle:
        return True  # certifi's roots
    try:
        return ssl.create_default_context(cafile=bundle)  # this bundle replaces the default roots
    except (OSError, ssl.SSLError) as error:
        logger.error("AKAGI_HTTP_CA_BUNDLE / SSL_CERT_FILE %r cannot be loaded: %s", bundle, error)
        raise FetchError(
            "https の証明書の設定（CA バンドル）を読み込めません。運用担当者に確認してください。", code="tls"
        ) from error


def _is_tls_error(error: BaseException) -> bool:
    seen = 0
    current: BaseException | None = error
    while current is not None and seen < 10:
        if isinstance(current, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(current):
            return True
        current = current.__cause__ or current.__context__
        seen += 1
    return False


class _Response:
    """An open response after redirects: status and headers known, body not read yet. Close it."""

    def __init__(self, response: httpx.Response, final_url: str, redirects: list[str], deadline: float,
                 timeout: float):
        self._response = response
        self.final_url = final_url
        self.redirects = redirects
        self.status = response.status_code
        self.headers = response.headers
        self._deadline = deadline
        self._timeout = timeout
        value = response.headers.get("content-type", "")
        self.content_type = value.split(";", 1)[0].strip().lower()
        match = re.search(r"charset\s*=\s*[\"']?([^\"';\s]+)", value, re.IGNORECASE)
        self.charset = match.group(1) if match else None

    def read(self, limit: int, *, truncate: bool = False) -> bytes:
        length = self.headers.get("content-length", "")
        if not truncate and length.isdigit() and int(length) > limit:
            raise _too_large_error(limit, self.final_url)
        body = bytearray()
        with _network_errors(self._timeout, self.final_url, proxied=False):
            for chunk in self._response.iter_bytes():
                body += chunk
                if len(body) > limit:
                    if truncate:
                        return bytes(body[:limit])
                    raise _too_large_error(limit, self.final_url)
                if time.monotonic() > self._deadline:
                    raise _timeout_error(self._timeout, self.final_url)
        return bytes(body)

    def close(self) -> None:
        self._response.close()


@contextmanager
def _network_errors(timeout: float, url: str, *, proxied: bool) -> Iterator[None]:
    try:
        yield
    except FetchError:
        raise
    except httpx.TimeoutException as error:
        raise _timeout_error(timeout, url) from error
    except httpx.ProxyError as error:
        raise FetchError(
            "プロキシサーバー経由で取得できませんでした。運用担当者にプロキシの設定を確認してください。",
            code="proxy",
            url=url,
        ) from error
    except httpx.ConnectError as error:
        if _is_tls_error(error):
            raise FetchError(
                "サーバーの証明書を確認できなかったため取得できませんでした（https の設定に問題があります）。",
                code="tls",
                url=url,
            ) from error
        if proxied:
            raise FetchError(
                "プロキシサーバーに接続できませんでした。運用担当者にプロキシの設定を確認してください。",
                code="proxy",
                url=url,
            ) from error
        raise FetchError(
            "サーバーに接続できませんでした。アドレスを確認するか、時間をおいて再度お試しください。",
            code="connect",
            url=url,
        ) from error
    except httpx.DecodingError as error:
        raise FetchError("ページの圧縮形式を解読できませんでした。", code="network", url=url) from error
    except httpx.InvalidURL as error:
        raise FetchError("アドレスの形式が正しくありません。", code="bad_url", url=url) from error
    except (httpx.HTTPError, httpx.StreamError, OSError) as error:
        raise FetchError(
            "通信が途中で切断されたため取得できませんでした。時間をおいて再度お試しください。", code="network", url=url
        ) from error


class _Fetcher:
    """Checked hops, pinned connections, manual redirects. One per fetch_page / crawl call; close it."""

    def __init__(self, *, proxy: str | None, allow_hosts: Iterable[str], timeout: float):
        self.allow = _allow_list(allow_hosts)
        self.proxies = _Proxies(proxy)
        self.timeout = float(timeout)
        self._clients: dict[tuple[str | None, str], httpx.Client] = {}
        self._verify = _verify()

    def __enter__(self) -> _Fetcher:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    def _client(self, proxy: str | None, host: str) -> httpx.Client:
        key = (proxy, host)
        if key not in self._clients:
            self._clients[key] = httpx.Client(
                proxy=proxy,
                trust_env=False,  # proxies come from _Proxies only
                follow_redirects=False,  # every hop is checked here
                verify=self._verify,
                cookies=_no_cookies(),
                headers=_HEADERS,
            )
        return self._clients[key]

    def open(self, url: str, *, deadline: float) -> _Response:
        """GET ``url``, following up to MAX_REDIRECTS redirects, each hop checked; raise FetchError otherwise."""
        chain: list[str] = []
        current = url
        for hop in range(MAX_REDIRECTS + 1):
            parsed = _parse_url(current)
            destination = _check_destination(
                current, self.allow, proxy=self.proxies.for_url(parsed), deadline=deadline
            )
            response = self._send(destination, deadline)
            location = response.headers.get("location", "").strip()
            if response.status_code in _REDIRECTS and location:
                response.close()
                if hop == MAX_REDIRECTS:
                    raise FetchError(
                        f"転送（リダイレクト）が多すぎるため取得できませんでした（上限 {MAX_REDIRECTS} 回）。",
                        code="too_many_redirects",
                        url=_redact(url),
                    )
                chain.append(str(destination.url))
                try:
                    current = urljoin(str(destination.url), location)
                except ValueError as error:
                    raise FetchError("転送先のアドレスの形式が正しくありません。", code="bad_url", url=url) from error
                continue
            return _Response(response, str(destination.url), chain, deadline, self.timeout)
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(self, destination: Destination, deadline: float) -> httpx.Response:
        url = destination.url
        shown = _redact(str(url))
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _timeout_error(self.timeout, shown)
        timeout = httpx.Timeout(remaining, connect=min(remaining, CONNECT_TIMEOUT))
        if destination.proxy:
            # The proxy connects by name: pinning is impossible here (see the module docstring).
            client = self._client(destination.proxy, destination.host)
            with _network_errors(self.timeout, shown, proxied=True):
                return client.send(client.build_request("GET", url, timeout=timeout), stream=True)
        client = self._client(None, destination.host)
        literal = _parse_ip(destination.host) is not None
        extensions = {"sni_hostname": url.raw_host.decode("ascii")} if url.scheme == "https" and not literal else None
        last: Exception | None = None
        for ip in destination.addresses:
            bare = str(ip).split("%", 1)[0]
            pinned = url.copy_with(host=bare)  # connect to the checked address, never to the name again
            request = client.build_request(
                "GET", pinned, headers={"Host": _host_header(url)}, timeout=timeout, extensions=extensions
            )
            try:
                return client.send(request, stream=True)
            except httpx.ConnectError as error:  # try the next address, as a browser would
                if _is_tls_error(error):
                    last = error
                    break
                last = error
            except httpx.TimeoutException as error:
                last = error
                if time.monotonic() >= deadline:
                    break
        with _network_errors(self.timeout, shown, proxied=False):
            raise last or httpx.ConnectError("no address")
        raise AssertionError("unreachable")  # pragma: no cover


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


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


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


# ---------------------------------------------------------------------------------------------------------------
# Decoding

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.\-]+)""", re.IGNORECASE)
_SJIS = "cp932"
_EUC = "euc_jp"
_ALIASES = {
    **dict.fromkeys(
        ("shift_jis", "shift-jis", "sjis", "x-sjis", "ms_kanji", "csshiftjis", "windows-31j", "cp932", "ms932",
         "x-ms-cp932", "shift_jisx0213", "shift_jis_2004"),
        _SJIS,
    ),
    **dict.fromkeys(("euc-jp", "euc_jp", "x-euc-jp", "eucjp", "cseucpkdfmtjapanese", "euc-jisx0213"), _EUC),
    **dict.fromkeys(("iso-2022-jp", "csiso2022jp", "iso2022jp", "iso-2022-jp-2"), "iso2022_jp_ext"),
    **dict.fromkeys(("utf-8", "utf8", "unicode-1-1-utf-8", "x-unicode20utf8"), "utf-8"),
    # Browsers read these labels as windows-1252; a Japanese page declaring them is almost always wrong.
    **dict.fromkeys(("iso-8859-1", "latin1", "latin-1", "us-ascii", "ascii", "windows-1252", "cp1252"), "cp1252"),
}
_WEAK = frozenset({"cp1252"})
_JAPANESE = frozenset({_SJIS, _EUC, "iso2022_jp_ext"})


def _codec(label: str | bytes | None) -> str | None:
    if not label:
        return None
    name = (label.decode("ascii", "ignore") if isinstance(label, bytes) else label).strip().strip("\"'").lower()
    if name in _ALIASES:
        return _ALIASES[name]
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _strict(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _japanese_score(text: str) -> float:
    hiragana = sum(1 for c in text if "\u3041" <= c <= "\u3096")
    katakana = sum(1 for c in text if "\u30a1" <= c <= "\u30fa")
    kanji = sum(1 for c in text if "\u4e00" <= c <= "\u9fff")
    punctuation = text.count("、") + text.count("。")
    halfwidth = sum(1 for c in text if "\uff61" <= c <= "\uff9f")
    odd = sum(1 for c in text if c == "\ufffd" or "\ue000" <= c <= "\uf8ff")
    return 3 * hiragana + 2 * punctuation + katakana + 0.5 * kanji - 3 * halfwidth - 10 * odd


def decode_html(data: bytes, http_charset: str | None = None) -> tuple[str, str]:
    """HTML bytes to text: BOM, the HTTP charset, ``<meta charset>``, then detection (UTF-8, CP932, EUC-JP).

    A declared charset is used when the bytes decode with it, with one exception: bytes that are valid UTF-8 with
    non-ASCII characters are UTF-8 even when a Japanese legacy charset is declared (CMS migrations leave stale
    ``<meta charset="Shift_JIS">`` behind; Shift_JIS or EUC-JP text is practically never valid UTF-8).
    Returns ``(text, codec name)``.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, errors="replace"), encoding
    head = data[:8192]
    declared: list[str] = []
    meta = _META_CHARSET.search(head)
    xml = _XML_ENCODING.search(head)
    for label in (http_charset, meta.group(1) if meta else None, xml.group(1) if xml else None):
        codec = _codec(label)
        if codec and codec not in declared:
            declared.append(codec)
    strong = [codec for codec in declared if codec not in _WEAK]
    if data.isascii() and b"\x1b$" in data and (text := _strict(data, "iso2022_jp_ext")) is not None:
        return text, "iso2022_jp_ext"  # 7-bit, so it would also pass as UTF-8
    utf8 = _strict(data, "utf-8")
    if strong and strong[0] in _JAPANESE and utf8 is not None and not data.isascii():
        return utf8, "utf-8"
    for codec in strong:
        text = _strict(data, codec)
        if text is not None:
            return text, codec
    if utf8 is not None:
        return utf8, "utf-8"
    candidates = [_SJIS, _EUC, "euc_jis_2004", "shift_jis_2004"]
    if b"\x1b$" in data:
        candidates.insert(0, "iso2022_jp_ext")
    decoded = [(text, codec) for codec in candidates if (text := _strict(data, codec)) is not None]
    if decoded:
        return max(decoded, key=lambda item: _japanese_score(item[0]))
    if strong:  # declared, with a few broken bytes: keep the declared charset
        return data.decode(strong[0], errors="replace"), strong[0]
    if declared:  # only a weak Latin-1 style label, and no Japanese reading worked
        text = _strict(data, declared[0])
        if text is not None:
            return text, declared[0]
    attempts = [(data.decode(codec, errors="replace"), codec) for codec in (_SJIS, _EUC)]
    return max(attempts, key=lambda item: _japanese_score(item[0]))


# ---------------------------------------------------------------------------------------------------------------
# Main text extraction


@dataclass(slots=True)
class ExtractedHtml:
    title: str
    sections: list[tuple[list[str], str]]
    links: list[str]
    external_links: list[str]
    robots: set[str] = field(default_factory=set)  # "noindex", "nofollow", "none" from <meta name="robots">
    refresh_url: str | None = None

    @property
    def text(self) -> str:
        return "\n".join(text for _, text in self.sections)


_DROP_TAGS = _word_set(
    "script style noscript template iframe frame frameset object embed applet svg math canvas video audio map "
    "button select option optgroup input textarea datalist nav aside menu dialog head link meta"
)
_SECTIONING = frozenset({"article", "main", "section", "aside", "nav"})
_DROP_ROLES = _word_set(
    "navigation banner contentinfo complementary search menu menubar toolbar dialog alertdialog"
)
# Words in id/class values (split at -, _, digits and camelCase; adjacent pairs joined too) that mark
# navigation and page furniture. Japanese CMS templates: gnavi (global navigation), lnavi/snavi (local/side),
# pankuzu and topicpath (breadcrumbs), pagetop ("このページの先頭へ"), tmp_header / tmp_footer (CMS-8341).
_NAV_WORDS = _word_set(
    "nav navi navbar navigation gnav gnavi gnavigation globalnav globalnavi globalnavigation lnav lnavi localnav "
    "localnavi snav snavi subnav subnavi hnav hnavi fnav fnavi sidenav sidenavi menu menus menubar megamenu "
    "submenu sidemenu globalmenu drawer breadcrumb breadcrumbs breadcrumbslist pankuzu topicpath sidebar "
    "pagetop gotop totop backtotop skiplink skiplinks skipnav sns snsbtn share sharebutton social banner banners "
    "bnr advertisement fontsize textsize fontchange mojisize cookie cookieconsent"
)
_NAV_SUFFIXES = ("menu", "navi", "nav", "navigation", "breadcrumb", "breadcrumbs", "pankuzu")  # leftmenu, hnavi
# Weak words count only as the last word of a value ("tmp_side", "l-side"), not in "side-note".
_WEAK_NAV_WORDS = frozenset({"side", "skip", "ad", "ads", "util", "utility", "tool", "tools"})
_HEADER_WORDS = frozenset({"header", "head", "masthead", "siteheader", "globalheader"})
_FOOTER_WORDS = frozenset({"footer", "foot", "sitefooter", "globalfooter", "copyright", "copyrights"})
_MAIN_IDS = (
    "main", "tmpmain", "maincontents", "maincontent", "tmpcontents", "contentsmain", "contents", "content",
    "primary", "mainarea", "maincolumn", "article",
)
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_BLOCK_TAGS = _word_set(
    "address article aside blockquote body caption center dd details dialog dir div dl dt fieldset figcaption "
    "figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr html legend li main nav ol p pre section summary table "
    "tbody td tfoot th thead tr ul"
)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NON_LETTERS = re.compile(r"[^a-z]+")
_CJK = "\u3000-\u303f\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01-\uff60\uff61-\uff9f"
_CJK_LINE_BREAK = re.compile(f"(?<=[{_CJK}])[ \\t\\r\\f\\v]*\\n\\s*(?=[{_CJK}])")
_SPACES = re.compile(r"[\s\u200b\ufeff]+")
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")
_REFRESH = re.compile(r"^\s*[\d.]*\s*[;,]?\s*(?:url\s*=\s*)?[\"']?([^\"']+)", re.IGNORECASE)
_BREAK = object()


def _clean(text: str) -> str:
    """Collapse white space; a line break between two Japanese characters is no space at all (as browsers do)."""
    return _SPACES.sub(" ", _CJK_LINE_BREAK.sub("", _CONTROLS.sub("", text))).strip()


def _tag(element) -> str | None:
    return element.tag.lower() if isinstance(element.tag, str) else None


def _words(value: str) -> tuple[set[str], str]:
    words = [word for word in _NON_LETTERS.split(_CAMEL.sub("-", value).lower()) if word]
    joined = {a + b for a, b in itertools.pairwise(words)}
    return set(words) | joined, (words[-1] if words else "")


def _marker_words(element) -> tuple[set[str], set[str]]:
    """All words of the element's id and classes, and the last word of each value."""
    words: set[str] = set()
    last: set[str] = set()
    values = [element.get("id") or "", *(element.get("class") or "").split()]
    for value in values:
        found, final = _words(value)
        words |= found
        if final:
            last.add(final)
    return words, last


def _is_hidden(element) -> bool:
    return (
        element.get("hidden") is not None
        or (element.get("aria-hidden") or "").strip().lower() == "true"
        or bool(_HIDDEN_STYLE.search(element.get("style") or ""))
    )


def _flat_text(element, *, alt: bool = False) -> str:
    parts: list[str] = []
    for item in _walk(element, structured=False, alt=alt):
        parts.append(" " if item is _BREAK else item)
    return _clean("".join(parts))


def _walk(root, *, structured: bool, alt: bool = False) -> Iterator:
    """Text of ``root`` in document order, as strings, _BREAK between blocks, and (level, text) for headings.

    Iterative (deeply nested pages must not hit the recursion limit).
    """
    stack: list[tuple[object, bool]] = [(root, False)]
    while stack:
        element, closing_tag = stack.pop()
        tag = _tag(element)
        if closing_tag:
            if tag in _BLOCK_TAGS:
                yield _BREAK
            if element is not root and element.tail:
                yield element.tail
            continue
        tail = element.tail if element is not root else None
        if tag is None:  # comments and processing instructions
            if tail:
                yield tail
            continue
        if structured and tag in _HEADINGS:
            yield (_HEADINGS[tag], _flat_text(element, alt=True))
        elif tag in ("br", "hr"):
            yield _BREAK
        elif structured and tag == "tr" and not _is_layout_row(element):
            cells = [_flat_text(cell) for cell in element if _tag(cell) in ("td", "th")]
            yield _BREAK
            yield " | ".join(cell for cell in cells if cell)
            yield _BREAK
        elif tag == "img":
            if alt and (element.get("alt") or "").strip():
                yield element.get("alt")
        else:
            if tag in _BLOCK_TAGS:
                yield _BREAK
            if element.text:
                yield element.text
            stack.append((element, True))
            stack.extend((child, False) for child in reversed(element))
            continue
        if tail:
            yield tail


def _is_layout_row(row) -> bool:
    """A row of a layout table (older municipal sites put whole pages in tables): walked as blocks, not cells."""
    if next(row.iter("h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol"), None) is not None:
        return True
    return any(len(cell.text_content()) > 200 for cell in row if _tag(cell) in ("td", "th"))


class _Sections:
    def __init__(self) -> None:
        self.stack: list[tuple[int, str]] = []
        self.sections: list[tuple[list[str], str]] = []
        self.lines: list[str] = []
        self.inline: list[str] = []

    def feed(self, item) -> None:
        if item is _BREAK:
            self._line()
        elif isinstance(item, tuple):
            level, text = item
            self._line()
            self._flush()
            if text:
                while self.stack and self.stack[-1][0] >= level:
                    self.stack.pop()
                self.stack.append((level, text))
        else:
            self.inline.append(item)

    def _line(self) -> None:
        if self.inline:
            line = _clean("".join(self.inline))
            self.inline = []
            if line:
                self.lines.append(line)

    def _flush(self) -> None:
        if self.lines:
            self.sections.append(([text for _, text in self.stack], "\n".join(self.lines)))
            self.lines = []

    def finish(self) -> list[tuple[list[str], str]]:
        self._line()
        self._flush()
        return self.sections


def _main_root(document):
    for path in ("//main", "//*[@role='main']"):
        found = [element for element in document.xpath(path) if not _is_hidden(element)]
        if found:
            return max(found, key=lambda element: len(element.text_content()))
    articles = [element for element in document.xpath("//article") if not _is_hidden(element)]
    if len(articles) == 1:
        return articles[0]
    by_id: dict[str, object] = {}
    for element in document.xpath("//*[@id]"):
        key = re.sub(r"[^a-z]", "", (element.get("id") or "").lower())
        by_id.setdefault(key, element)
    for key in _MAIN_IDS:
        if key in by_id:
            return by_id[key]
    return document.find("body") if document.find("body") is not None else document


def _inside(element, tags: frozenset[str], stop) -> bool:
    parent = element.getparent()
    while parent is not None and parent is not stop:
        if _tag(parent) in tags:
            return True
        parent = parent.getparent()
    return False


def _mostly_heading(element) -> bool:
    """A title block (``<header><h1>…</h1><p>2025年4月1日</p></header>``), not site furniture."""
    headings = list(element.iter("h1", "h2", "h3", "h4", "h5", "h6"))
    if not headings:
        return False
    heading_chars = sum(len(_flat_text(h, alt=True)) for h in headings)
    total = len(_flat_text(element, alt=True))
    return heading_chars > 0 and heading_chars * 2 >= total


def _drop(elements: list) -> None:
    for element in elements:
        if element.getparent() is not None:
            element.drop_tree()  # keeps the tail text, which belongs to the parent


def _remove_boilerplate(root) -> None:
    first: list = []
    for element in root.iter():
        tag = _tag(element)
        if tag is None or element is root:
            continue
        words, last = _marker_words(element)
        role = (element.get("role") or "").strip().lower()
        if (
            tag in _DROP_TAGS
            or role in _DROP_ROLES
            or _is_hidden(element)
            or words & _NAV_WORDS
            or any(word.endswith(_NAV_SUFFIXES) for word in words)
            or last & _WEAK_NAV_WORDS
            or (tag == "form" and element.find(".//h1") is None and element.find(".//h2") is None
                and element.find(".//main") is None and element.find(".//article") is None)
        ):
            first.append(element)
    _drop(first)
    # Headers and footers second, judged on what is left: a <header> inside <article> or <main> is the article's
    # own title block (ARIA gives it no banner role), and one holding mostly a heading is kept anywhere.
    second: list = []
    for element in root.iter():
        tag = _tag(element)
        if tag is None or element is root:
            continue
        words, _ = _marker_words(element)
        landmark = tag in ("header", "footer") and not _inside(element, _SECTIONING, None)
        marked = bool(words & (_HEADER_WORDS | _FOOTER_WORDS))
        if (landmark or marked) and not _mostly_heading(element):
            second.append(element)
    _drop(second)


def _links(document, base_url: str) -> tuple[list[str], list[str]]:
    base = base_url
    base_element = document.find(".//base[@href]")
    if base_element is not None:
        with suppress(ValueError):
            candidate = urljoin(base_url, base_element.get("href", "").strip())
            if candidate.startswith(("http://", "https://")):
                base = candidate
    own_host = _url_host(base_url).lower()
    same: list[str] = []
    other: list[str] = []
    seen: set[str] = set()
    for element in document.iter("a", "area", "frame", "iframe"):
        href = element.get("href") if _tag(element) in ("a", "area") else element.get("src")
        if not href:
            continue
        href = re.sub(r"[\t\r\n]", "", href).strip()
        if not href or href.startswith("#") or re.match(r"(?i)(javascript|mailto|tel|data|file):", href):
            continue
        try:
            absolute = _strip_fragment(urljoin(base, href))
            parts = urlsplit(absolute)
            host = (parts.hostname or "").rstrip(".").lower()
        except ValueError:
            continue
        if parts.scheme not in ("http", "https") or not host or "@" in parts.netloc or absolute in seen:
            continue
        seen.add(absolute)
        (same if host == own_host else other).append(absolute)
    return same, other


def extract_main_text(html: str, *, base_url: str = "") -> ExtractedHtml:
    """The page's title, its main text in heading sections, and its links.

    Navigation and furniture are removed: nav/aside/header/footer/form/script/style..., ARIA landmark roles,
    hidden elements and ids/classes such as gnavi, pankuzu, topicpath, breadcrumb, sidebar, pagetop, footer. The
    main content root is ``<main>``, ``[role=main]``, a single ``<article>`` or an id like main/contents
    (tmp_contents on CMS-8341). Links are taken from the whole page (navigation is how a crawl finds pages).
    """
    import lxml.etree
    import lxml.html

    # huge_tree: libxml2 otherwise silently drops everything nested deeper than 256 elements (real CMS pages
    # with layout tables get close); the input is already capped by max_bytes.
    parser = lxml.html.HTMLParser(
        encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True, huge_tree=True
    )
    try:
        document = lxml.html.document_fromstring(html.encode("utf-8", errors="replace"), parser=parser)
    except (lxml.etree.ParserError, ValueError):
        return ExtractedHtml("", [], [], [])
    title_element = document.find(".//title")
    title = _clean(title_element.text_content()) if title_element is not None else ""
    links, external = _links(document, base_url) if base_url else ([], [])
    robots: set[str] = set()
    refresh_url = None
    for meta in document.iter("meta"):
        name = (meta.get("name") or "").strip().lower()
        if name in ("robots", ROBOTS_AGENT.lower()):
            robots |= {token.strip().lower() for token in (meta.get("content") or "").split(",") if token.strip()}
        if (meta.get("http-equiv") or "").strip().lower() == "refresh" and refresh_url is None and base_url:
            match = _REFRESH.match(meta.get("content") or "")
            if match and match.group(1).strip():
                with suppress(ValueError):
                    candidate = urljoin(base_url, match.group(1).strip())
                    if candidate.startswith(("http://", "https://")):
                        refresh_url = candidate
    sections: list[tuple[list[str], str]] = []
    root = _main_root(document)
    body = document.find("body")
    for candidate in (root, body):
        if candidate is None:
            continue
        _remove_boilerplate(candidate)
        builder = _Sections()
        for item in _walk(candidate, structured=True):
            builder.feed(item)
        sections = builder.finish()
        if sections:
            break
    if not title:
        first = document.find(".//h1")
        title = _flat_text(first, alt=True) if first is not None else ""
    return ExtractedHtml(title, sections, links, external, robots, refresh_url)


# ---------------------------------------------------------------------------------------------------------------
# Public API


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
