"""Real HTTP servers on 127.0.0.1 and a fake resolver for the rag.web tests; no test touches anything else.

``Site`` is an ``http.server`` in a thread that serves routes and records every request it receives (so a test
can show a refused URL was never requested). ``FakeDNS`` replaces ``socket.getaddrinfo``: names answer only from
its table, numeric hosts are parsed locally (``inet_aton`` accepts 2130706433, 0x7f.1 and 127.1 as the C library
does); anything else fails as an unknown name, so no real DNS query is ever made. Tests combine it with the
``no_network`` fixture, which refuses and records any connection to a non-loopback address.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

Writer = Callable[[BaseHTTPRequestHandler, threading.Event], None]


@dataclass
class Reply:
    body: bytes | str | Writer = b""
    status: int = 200
    content_type: str | None = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    path: str  # the request target as sent (absolute-form through a proxy)
    host: str
    headers: dict[str, str]


class Site:
    """An HTTP/1.0 server on 127.0.0.1 with a free port; routes by path (``"*"`` catches everything)."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.routes: dict[str, Reply] = {}
        self.requests: list[Seen] = []
        self.stopping = threading.Event()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.requests.append(Seen(self.path, self.headers.get("Host", ""), dict(self.headers)))
                path = urlsplit(self.path).path if self.path.startswith("/") else self.path
                reply = site.routes.get(path) or site.routes.get("*") or Reply(b"not found", 404, "text/plain")
                try:
                    self.send_response(reply.status)
                    if reply.content_type:
                        self.send_header("Content-Type", reply.content_type)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    if callable(reply.body):
                        self.end_headers()
                        reply.body(self, site.stopping)
                        return
                    body = reply.body.encode() if isinstance(reply.body, str) else reply.body
                    if "Content-Length" not in reply.headers:
                        self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped reading: exactly what the size and time caps do

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.scheme = "http"
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def route(self, path: str, body: bytes | str | Writer = b"", **options) -> Site:
        self.routes[path] = Reply(body, **options)
        return self

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def paths(self) -> list[str]:
        return [seen.path for seen in self.requests]

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sites() -> Iterable[Callable[[], Site]]:
    """A factory of started sites, all stopped at the end of the test."""
    started: list[Site] = []

    def make(tls: ssl.SSLContext | None = None) -> Site:
        started.append(Site(tls))
        return started[-1]

    yield make
    for site in started:
        site.stop()


@pytest.fixture
def site(sites) -> Site:
    return sites()


class FakeDNS:
    """``socket.getaddrinfo`` answering from a table; records every name looked up."""

    def __init__(self) -> None:
        self.table: dict[str, list[str] | Callable[[], list[str]]] = {}
        self.lookups: list[str] = []

    def __call__(self, host, port, family=0, type=0, proto=0, flags=0):
        name = host.decode() if isinstance(host, bytes) else str(host)
        self.lookups.append(name)
        answer = self.table.get(name.lower().rstrip("."))
        if callable(answer):
            answer = answer()
        if answer is None:
            answer = [self._numeric(name)]
        return [self._info(address, port) for address in answer]

    @staticmethod
    def _numeric(name: str) -> str:
        try:
            return str(ipaddress.ip_address(name))
        except ValueError:
            pass
        try:
            return socket.inet_ntoa(socket.inet_aton(name))  # local parsing only, as getaddrinfo would do
        except OSError:
            raise socket.gaierror(socket.EAI_NONAME, f"fake DNS: unknown name {name}") from None

    @staticmethod
    def _info(address: str, port) -> tuple:
        port = int(port or 0)
        if ":" in address:
            return (socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port, 0, 0))
        return (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))

    def lookups_of(self, name: str) -> int:
        return sum(1 for looked_up in self.lookups if looked_up == name)


@pytest.fixture
def dns(no_network, monkeypatch) -> FakeDNS:
    """The fake resolver, installed over the network guard (which still refuses non-loopback connections)."""
    fake = FakeDNS()
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return fake


@pytest.fixture
def clean_settings(settings, monkeypatch):
    """No allow-list, proxy or CA bundle from the environment or settings unless a test sets one."""
    settings.AKAGI_RAG_ALLOWED_HOSTS = []
    settings.AKAGI_HTTP_PROXY = ""
    settings.AKAGI_HTTP_NO_PROXY = ""
    settings.AKAGI_HTTP_CA_BUNDLE = ""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "SSL_CERT_FILE"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return settings


def slow(chunks: Iterable[bytes], pause: float) -> Writer:
    """A body sent a chunk at a time with pauses (a page that trickles or never ends)."""

    def write(handler: BaseHTTPRequestHandler, stopping: threading.Event) -> None:
        for chunk in chunks:
            if stopping.wait(pause):
                return
            handler.wfile.write(chunk)
            handler.wfile.flush()

    return write


def endless(chunk: bytes = b"<p>" + "あ".encode() * 20_000 + b"</p>", limit_seconds: float = 30) -> Writer:
    """A body that never ends (until the client hangs up, the server stops, or limit_seconds pass)."""

    def write(handler: BaseHTTPRequestHandler, stopping: threading.Event) -> None:
        handler.wfile.write(b"<html><body>")
        ends = time.monotonic() + limit_seconds
        while not stopping.is_set() and time.monotonic() < ends:
            handler.wfile.write(chunk)

    return write


def test_the_fake_resolver_never_falls_back_to_real_dns(dns):
    dns.table["www.city.example.lg.jp"] = ["127.0.0.1"]
    assert dns("www.city.example.lg.jp", 80)[0][4] == ("127.0.0.1", 80)
    assert dns("2130706433", 80)[0][4] == ("127.0.0.1", 80)
    assert dns("::1", 80)[0][4][0] == "::1"
    with pytest.raises(socket.gaierror):
        dns("example.com", 80)
