"""The embedded PostgreSQL and Redis are started once, reused, and recovered after a crash."""

import os
import signal
import time

import psutil
import psycopg
import pytest

from config import embedded


@pytest.fixture
def scratch_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("AKAGI_DATA_DIR", str(tmp_path / "data"))
    yield tmp_path / "data"
    embedded.stop_redis()
    embedded.stop_postgres()


def _select_one(endpoint) -> int:
    with psycopg.connect(host=endpoint.host, port=endpoint.port, user=endpoint.user, dbname=endpoint.name) as conn:
        return conn.execute("SELECT 1").fetchone()[0]


def test_a_stale_postmaster_pid_after_a_crash_is_recovered(scratch_data_dir):
    first = embedded.ensure_postgres()
    assert _select_one(first) == 1
    pgdata = scratch_data_dir / "postgres"
    pid = int((pgdata / "postmaster.pid").read_text().splitlines()[0])

    # Crash: the postmaster dies without cleaning up, and its PID now names an unrelated live process.
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while psutil.pid_exists(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    lines = (pgdata / "postmaster.pid").read_text().splitlines()
    lines[0] = str(os.getpid())
    (pgdata / "postmaster.pid").write_text("\n".join(lines) + "\n")
    for proc in psutil.process_iter(["name", "cmdline"]):  # orphaned backends hold shared memory
        if proc.info["name"] == "postgres" and str(pgdata) in " ".join(proc.info["cmdline"] or []):
            proc.kill()

    second = embedded.ensure_postgres()
    assert _select_one(second) == 1
    new_pid = int((pgdata / "postmaster.pid").read_text().splitlines()[0])
    assert new_pid != os.getpid() and psutil.Process(new_pid).name() == "postgres"


def test_a_second_caller_reuses_the_running_servers(scratch_data_dir):
    pg1, redis1 = embedded.ensure_postgres(), embedded.ensure_redis()
    pid1 = (scratch_data_dir / "postgres" / "postmaster.pid").read_text().splitlines()[0]
    pg2, redis2 = embedded.ensure_postgres(), embedded.ensure_redis()
    pid2 = (scratch_data_dir / "postgres" / "postmaster.pid").read_text().splitlines()[0]
    assert pid1 == pid2
    assert redis1 == redis2
    assert pg1 == pg2


def test_the_embedded_postgres_has_pgvector(scratch_data_dir):
    endpoint = embedded.ensure_postgres()
    with psycopg.connect(host=endpoint.host, port=endpoint.port, user=endpoint.user, dbname=endpoint.name) as conn:
        distance = conn.execute("SELECT '[1,0,0]'::vector <=> '[0,1,0]'::vector").fetchone()[0]
    assert distance == pytest.approx(1.0)
