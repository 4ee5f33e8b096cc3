"""Blocks and records every connection and name lookup except loopback and Unix sockets.

Used in-process by the ``no_network`` fixture and at the top of a fresh interpreter by the offline test (import
it before anything else there, so import-time traffic is caught too). Attempts are recorded, not only refused,
because libraries swallow their own network errors (unstructured's telemetry does).
"""

from __future__ import annotations

import socket

attempts: list[str] = []
_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex
_getaddrinfo = socket.getaddrinfo


def _local(host) -> bool:
    return host is None or str(host).startswith("127.") or str(host) in ("::1", "localhost")


def connect(self, address, *args):
    if isinstance(address, tuple) and not _local(address[0]):
        attempts.append(f"connect {address!r}")
        raise OSError(f"network blocked in tests: {address!r}")
    return _connect(self, address, *args)


def connect_ex(self, address, *args):
    if isinstance(address, tuple) and not _local(address[0]):
        attempts.append(f"connect {address!r}")
        return 111  # ECONNREFUSED
    return _connect_ex(self, address, *args)


def getaddrinfo(host, *args, **kwargs):
    if not _local(host):
        attempts.append(f"resolve {host}")
        raise socket.gaierror(f"name resolution blocked in tests: {host}")
    return _getaddrinfo(host, *args, **kwargs)


PATCHES = ((socket.socket, "connect", connect), (socket.socket, "connect_ex", connect_ex),
           (socket, "getaddrinfo", getaddrinfo))


def install() -> None:
    for owner, name, replacement in PATCHES:
        setattr(owner, name, replacement)
