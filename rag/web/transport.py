"""The safe fetcher: checked hops, connections pinned to the checked address, manual redirects, one deadline,
size caps, no cookies, TLS trust from the operator's CA bundle."""

from __future__ import annotations

import http.cookiejar
import logging
import os
import re
import ssl
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from urllib.parse import urljoin

import httpx

from .addresses import _allow_list, _parse_ip
from .common import (
    CONNECT_TIMEOUT,
    MAX_REDIRECTS,
    USER_AGENT,
    FetchError,
    _redact,
    _setting,
    _timeout_error,
    _too_large_error,
)
from .destinations import Destination, _check_destination, _host_header, _parse_url, _Proxies

logger = logging.getLogger(__name__)

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
