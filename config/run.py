"""``make run``: set up and start the whole service in the foreground; Ctrl-C stops it all.

Steps: start (or reuse) the embedded PostgreSQL and Redis, migrate the public and every tenant schema, seed the
demo data when the installation is empty, then run uvicorn, a Celery worker and Celery beat as child processes.
When one child dies the others are stopped too, so a half-running service never looks healthy.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from config import embedded

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host if host != "0.0.0.0" else "127.0.0.1", port)) == 0  # noqa: S104


def _manage(*args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=BASE_DIR, check=True)


def main() -> int:
    host = os.environ.get("AKAGI_HOST", "127.0.0.1")
    port = int(os.environ.get("AKAGI_PORT", "8000"))
    if _port_in_use(host, port):
        print(
            f"ポート {port} は既に使われています。"
            f"Akagi が既に起動している場合は http://localhost:{port}/ を開いてください。"
            f"別のポートで起動するには AKAGI_PORT=8001 make run のように指定してください。",
            file=sys.stderr,
        )
        return 1

    started_postgres = started_redis = False
    if not os.environ.get("DATABASE_URL"):
        started_postgres = not embedded._postmaster_is_ours(embedded.data_dir() / "postgres")
        note = "（起動しました）" if started_postgres else "（起動中のものを再利用）"
        print("PostgreSQL:", embedded.ensure_postgres().url(), note)
    if not os.environ.get("REDIS_URL"):
        port_file = embedded.data_dir() / "redis" / "redis.port"
        was_up = port_file.exists() and embedded._redis_answers(int(port_file.read_text().strip() or 0))
        started_redis = not was_up
        note = "（起動しました）" if started_redis else "（起動中のものを再利用）"
        print("Redis:", embedded.ensure_redis().url(), note)

    _manage("migrate_schemas", "--verbosity", "0")
    _manage("seed_demo", "--port", str(port))

    data = embedded.data_dir()
    data.mkdir(parents=True, exist_ok=True)
    children = {
        "web": [str(BIN / "uvicorn"), "config.asgi:application", "--host", host, "--port", str(port),
                "--proxy-headers", "--lifespan", "off"],
        "worker": [str(BIN / "celery"), "-A", "config", "worker", "-l", "info", "--concurrency", "2"],
        "beat": [str(BIN / "celery"), "-A", "config", "beat", "-l", "info",
                 "-S", "tenant_schemas_celery.scheduler:TenantAwarePersistentScheduler",
                 "--schedule", str(data / "celerybeat-schedule")],
    }
    procs = {name: subprocess.Popen(cmd, cwd=BASE_DIR) for name, cmd in children.items()}
    print(f"\nAkagi を起動しました: http://localhost:{port}/ （Ctrl-C で停止）\n", flush=True)

    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    try:
        while not stopping:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    print(f"{name} が終了しました（終了コード {proc.returncode}）。全体を停止します。", file=sys.stderr)
                    exit_code = proc.returncode or 1
                    stopping = True
            time.sleep(0.5)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
        # Servers another process started stay up for it; the ones this run started stop with it.
        if started_redis:
            embedded.stop_redis()
        if started_postgres:
            embedded.stop_postgres()
        print("停止しました。")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
