"""Web pages for the knowledge base, fetched safely: ``fetch_page(url)`` and ``crawl(start_url, depth=...)``.

A pure package: no models, no other project app; Django settings are read lazily and all have defaults.

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

The package has one module per concept: ``addresses`` (what is public, the operator's allow-list),
``destinations`` (URL checks, DNS, proxies), ``transport`` (the pinned, capped, redirect-checking fetcher),
``decoding`` (charsets), ``extraction`` (main text and links), ``fetching`` (``fetch_page`` and its results),
``robots`` and ``crawl``. Callers import from ``rag.web``.
"""

from __future__ import annotations

from .addresses import AllowList, address_problem
from .common import (
    BLOCKED_MESSAGE,
    EMPTY_MESSAGE,
    MAX_REDIRECTS,
    METADATA_MESSAGE,
    ROBOTS_MESSAGE,
    USER_AGENT,
    FetchError,
)
from .crawl import crawl
from .decoding import decode_html
from .destinations import Destination, check_destination, normalize_url
from .extraction import ExtractedHtml, extract_main_text
from .fetching import FILE_EXTENSIONS, FetchedFile, FetchedPage, fetch_page

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
