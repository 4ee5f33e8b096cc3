"""Which addresses a fetch may reach: public internet addresses, or what the operator's allow-list permits.

Cloud metadata addresses are refused even when allow-listed. See ``rag.web`` for the whole guard.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

from .common import Address, Network, _setting_list

logger = logging.getLogger(__name__)

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
