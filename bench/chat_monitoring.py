"""Sampling the server while the chat benchmark runs: process resources, TCP queues, errors in its log.

Used by ``bench/chat_pipeline.py``; kept apart so that the benchmark's script reads as the measurements only.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections import Counter
from pathlib import Path
from typing import Any

LOG_PATTERNS = {
    "traceback": re.compile(r"^Traceback \(most recent call last\)"),
    "uvicorn_error": re.compile(r"^ERROR:"),
    "http_5xx": re.compile(r'" 5\d\d\b'),
    "provider_failed": re.compile(r"request for model .* failed"),
    "too_many_clients": re.compile(r"too many clients", re.IGNORECASE),
    "pool_timeout": re.compile(r"PoolTimeout|couldn't get a connection", re.IGNORECASE),
    "too_many_open_files": re.compile(r"Too many open files|EMFILE", re.IGNORECASE),
}


def tcp_counts(port: int) -> tuple[int, int]:
    """Server-side established connections on the port, and the listening socket's accept queue (not yet taken
    by uvicorn): /proc/net/tcp shows a LISTEN socket's queue length as rx_queue."""
    established = queued = 0
    suffix = f":{port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if not fields[1].endswith(suffix):
            continue
        if fields[3] == "01":
            established += 1
        elif fields[3] == "0A":
            queued = int(fields[4].split(":")[1], 16)
    return established, queued


class Monitor:
    """Samples uvicorn (threads, fds, RSS, CPU) and PostgreSQL's connection count while a level runs."""

    def __init__(self, pid: int, port: int, pg_endpoint):
        import psutil

        self.proc = psutil.Process(pid)
        self.port = port
        self.pg = pg_endpoint
        self.peak: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Monitor:
        self.peak = {"uvicorn_threads": 0, "uvicorn_fds": 0, "uvicorn_rss_mb": 0, "uvicorn_cpu_percent": 0,
                     "pg_connections": 0, "established_connections": 0, "accept_queue": 0}
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        conn = None
        with contextlib.suppress(Exception):
            import psycopg

            conn = psycopg.connect(host=self.pg.host, port=self.pg.port, user=self.pg.user, dbname="postgres",
                                   autocommit=True, connect_timeout=5)
        with contextlib.suppress(Exception):
            self.proc.cpu_percent(None)
        for _ in range(10_000):
            if self._stop.wait(0.5):
                break
            with contextlib.suppress(Exception):
                self._bump("uvicorn_threads", self.proc.num_threads())
                self._bump("uvicorn_fds", self.proc.num_fds())
                self._bump("uvicorn_rss_mb", round(self.proc.memory_info().rss / 2**20, 1))
                self._bump("uvicorn_cpu_percent", round(self.proc.cpu_percent(None), 1))
            with contextlib.suppress(Exception):
                established, queued = tcp_counts(self.port)
                self._bump("established_connections", established)
                self._bump("accept_queue", queued)
            if conn is not None:
                with contextlib.suppress(Exception):
                    count = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s",
                                         [self.pg.name]).fetchone()[0]
                    self._bump("pg_connections", count)
        if conn is not None:
            conn.close()

    def _bump(self, key: str, value: float) -> None:
        self.peak[key] = max(self.peak.get(key, 0), value)


def scan_log(log_path: Path, start: int = 0, end: int | None = None) -> dict[str, Any]:
    """Counts of server-error signatures in the uvicorn log between two byte offsets, with a few samples."""
    try:
        with open(log_path, "rb") as fh:
            fh.seek(start)
            raw = fh.read() if end is None else fh.read(max(0, end - start))
    except OSError:
        return {}
    counts: Counter[str] = Counter()
    samples: list[str] = []
    for line in raw.decode("utf-8", "replace").splitlines():
        hit = False
        for key, pattern in LOG_PATTERNS.items():
            if pattern.search(line):
                counts[key] += 1
                hit = True
        if re.match(r"^[\w.]*(Error|Exception|Timeout)\b", line) and "Traceback" not in line:
            counts["exception_lines"] += 1
            hit = True
        if hit and len(samples) < 8 and line[:200] not in samples:
            samples.append(line[:200])
    return {"counts": dict(counts), "samples": samples}


def log_size(log_path: Path) -> int:
    try:
        return log_path.stat().st_size
    except OSError:
        return 0
