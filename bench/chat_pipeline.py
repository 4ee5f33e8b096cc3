"""Benchmark of the chat pipeline over HTTP against the stub LLM server; prints one JSON object.

    .venv/bin/python bench/chat_pipeline.py [--prompts 100] [--levels 100,200,300,500] [--quick]

1. Time to first token added by the pipeline: N sequential prompts, each timed from sending ``POST /chat/send/``
   to the first ``delta`` event, interleaved with the same prompt sent straight to the stub with the ``openai``
   client (time to the first content chunk). Both are reported, and the difference.
2. Concurrency: for each level, that many prompts fired at once (a barrier releases them together) whose answers
   stream for several seconds; errors (non-200, connection errors, no ``done`` event, ``done`` not complete),
   p50/p95 total stream time, first-token and ``start``-event latency. ``max_level_without_errors`` is the highest
   level such that it and every lower level had no error.

Everything runs on 127.0.0.1 with its own data directory ``.data/bench`` (embedded PostgreSQL and Redis, stopped
at the end), so a developer's data is never touched: migrate, seed the demo municipalities, raise demo-a's monthly
cap, start the stub in this process and one uvicorn (log: ``.data/bench/uvicorn.log``). Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

from chat_monitoring import Monitor, log_size, scan_log  # sibling modules of this script
from support import ROOT, logger, manage, percentile, prepare_environment, stop_embedded

DATA_DIR = ROOT / ".data" / "bench"
MANAGE_TIMEOUT_S = 300
LOG_PATH = DATA_DIR / "uvicorn.log"
TENANT = "demo-a"
HOST = "127.0.0.1"
USERS = [("A001", "Kanri#Demo2026"), ("A002", "Shokuin#Demo2026"), ("A003", "Shokuin#Demo2026")]  # public demo accounts
MODEL_NAME = "stub-gpt"
DEPLOYMENT = "stub-gpt-4o"
CHUNK_SIZE = 8
# 160 characters, 20 deltas of 8: a plain notice with no personal information, so the guard lets it through.
ANSWER = (
    "承知しました。会議の開催通知の案をお示しします。\n\n"
    "## 会議の開催について\n\n"
    "下記のとおり定例会議を開催しますので、ご出席くださいますようお願いいたします。\n\n"
    "- 日時：来月第二水曜日の午後二時から\n"
    "- 場所：本庁舎三階の第一会議室\n"
    "- 議題：来年度の事業計画について\n\n"
    "資料は当日配布します。"
)
ANSWER = (ANSWER + "以上です。" * 40)[:160]
PROMPT = "会議の開催通知を作成してください（{n}）"
STREAM_DEADLINE_S = 120  # no single request may take longer than this
log = logger("bench", clock=True)


def stats(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0}
    return {"n": len(values), "p50_ms": round(percentile(values, 0.50), 1),
            "p95_ms": round(percentile(values, 0.95), 1), "mean_ms": round(statistics.fmean(values), 1),
            "max_ms": round(max(values), 1)}


# --------------------------------------------------------------------------- environment and processes


def raise_fd_limit() -> dict[str, int]:
    """uvicorn inherits the raised soft limit: 500 streams need ~1,000 sockets in it and in this process."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 65536
    wanted = min(wanted, 65536)
    if wanted > soft:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    soft_now, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return {"soft_before": soft, "soft": soft_now, "hard": hard}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start_uvicorn(port: int, models: list[dict]) -> subprocess.Popen:
    env = os.environ.copy()
    env["AKAGI_LLM_MODELS"] = json.dumps(models)
    with open(LOG_PATH, "w") as out:
        # No --limit-concurrency: the bench looks for the application's own limits.
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", HOST, "--port", str(port),
             "--lifespan", "off"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 90
    while True:
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", "/accounts/login/", headers={"Host": f"{TENANT}.localhost:{port}"})
            conn.getresponse().read()
            conn.close()
            return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                stop_process(proc)
                raise RuntimeError(f"uvicorn did not start:\n{LOG_PATH.read_text()[-3000:]}") from None
            time.sleep(0.2)


def stop_process(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def process_fd_limit(pid: int) -> int | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
            if line.startswith("Max open files"):
                return int(line.split()[3])
    return None


# --------------------------------------------------------------------------- HTTP as a browser does it


class Session:
    """A logged-in staff member: session cookie and CSRF token, shared by concurrent requests."""

    def __init__(self, port: int, host: str):
        self.port = port
        self.host_header = f"{host}:{port}"
        self.cookies: dict[str, str] = {}

    def headers(self, extra: dict | None = None) -> dict:
        headers = {"Host": self.host_header, "Referer": f"http://{self.host_header}/"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        headers.update(extra or {})
        return headers

    def _remember(self, response: http.client.HTTPResponse) -> None:
        for header in response.headers.get_all("Set-Cookie") or []:
            for key, morsel in SimpleCookie(header).items():
                self.cookies[key] = morsel.value

    def request(self, method: str, path: str, fields: dict | None = None) -> tuple[int, str]:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
        try:
            extra = {}
            body = None
            if fields is not None:
                body = urllib.parse.urlencode(fields)
                extra = {"Content-Type": "application/x-www-form-urlencoded",
                         "X-CSRFToken": self.cookies.get("csrftoken", "")}
            conn.request(method, path, body=body, headers=self.headers(extra))
            response = conn.getresponse()
            text = response.read().decode()
            self._remember(response)
            return response.status, text
        finally:
            conn.close()

    def login(self, identifier: str, password: str) -> None:
        _, body = self.request("GET", "/accounts/login/")
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        if not match:
            raise RuntimeError("no CSRF token on the login page")
        status, _ = self.request("POST", "/accounts/login/", {"csrfmiddlewaretoken": match.group(1),
                                                              "login": identifier, "password": password})
        if status != 302:
            raise RuntimeError(f"login of {identifier} failed: HTTP {status}")

    def stream_prompt(self, prompt: str) -> dict[str, Any]:
        """Send one prompt and read its event stream; times are ms after the POST started."""
        result: dict[str, Any] = {"status": None, "error": None, "start_ms": None, "first_delta_ms": None,
                                  "done_ms": None, "deltas": 0, "last_event": None, "done_status": None}
        body = urllib.parse.urlencode({"prompt": prompt})
        headers = self.headers({"Content-Type": "application/x-www-form-urlencoded",
                                "X-CSRFToken": self.cookies.get("csrftoken", "")})
        conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
        started = time.perf_counter()
        result["sent_at"] = started
        try:
            conn.request("POST", "/chat/send/", body=body, headers=headers)
            response = conn.getresponse()
            result["status"] = response.status
            if response.status != 200:
                response.read()
                result["error"] = f"http_{response.status}"
                return result
            name, data = "message", ""
            for _ in range(200_000):  # bounded; the socket timeout bounds each read
                if time.perf_counter() - started > STREAM_DEADLINE_S:
                    result["error"] = "stream_deadline"
                    break
                line = response.readline()
                if not line:
                    break
                text = line.decode("utf-8").rstrip("\r\n")
                if text.startswith("event: "):
                    name = text[7:]
                elif text.startswith("data: "):
                    data += text[6:]
                elif text == "" and data:
                    now_ms = (time.perf_counter() - started) * 1000
                    result["last_event"] = name
                    if name == "start" and result["start_ms"] is None:
                        result["start_ms"] = now_ms
                    elif name == "delta":
                        result["deltas"] += 1
                        if result["first_delta_ms"] is None:
                            result["first_delta_ms"] = now_ms
                    elif name == "done":
                        result["done_ms"] = now_ms
                        result["done_status"] = json.loads(data).get("status")
                    name, data = "message", ""
        except (OSError, http.client.HTTPException, ValueError) as exc:
            result["error"] = f"connection_error: {type(exc).__name__}"
            result["detail"] = str(exc)[:200]
        finally:
            conn.close()
        if result["error"] is None:
            if result["done_ms"] is None:
                result["error"] = f"no_done_event (last: {result['last_event']})"
            elif result["done_status"] != "complete":
                result["error"] = f"done_status_{result['done_status']}"
        return result


def count_stub_errors(stub) -> Counter[str]:
    """Count the stub's handler exceptions (e.g. a peer resetting an idle keep-alive) instead of printing them."""
    counts: Counter[str] = Counter()

    def handle_error(request, client_address) -> None:
        counts[type(sys.exc_info()[1]).__name__] += 1

    stub._server.handle_error = handle_error
    return counts


def stub_first_chunk(client, prompt: str) -> dict[str, float | None]:
    """The stub's own time to the first content chunk (and to the end), through the openai client."""
    started = time.perf_counter()
    first = None
    stream = client.chat.completions.create(
        model=DEPLOYMENT, messages=[{"role": "user", "content": prompt}], max_tokens=4000, stream=True,
        stream_options={"include_usage": True},
    )
    for chunk in stream:
        if first is None and chunk.choices and chunk.choices[0].delta.content:
            first = (time.perf_counter() - started) * 1000
    return {"first_ms": first, "total_ms": (time.perf_counter() - started) * 1000}


# --------------------------------------------------------------------------- the two measurements


def measure_ttft(sessions: list[Session], stub, prompts: int) -> dict[str, Any]:
    import openai

    stub.set_behaviour(answer=ANSWER, chunk_size=CHUNK_SIZE, chunk_delay=0.01)
    client = openai.OpenAI(base_url=stub.base_url, api_key="bench", max_retries=0, timeout=30)
    pipeline, direct, diffs, start_events, errors = [], [], [], [], Counter()
    try:
        for n in range(prompts):
            prompt = PROMPT.format(n=n)
            result = sessions[n % len(sessions)].stream_prompt(prompt)
            own = stub_first_chunk(client, prompt)
            if result["error"] or result["first_delta_ms"] is None:
                errors[result["error"] or "no_delta"] += 1
                continue
            pipeline.append(result["first_delta_ms"])
            start_events.append(result["start_ms"])
            if own["first_ms"] is not None:
                direct.append(own["first_ms"])
                diffs.append(result["first_delta_ms"] - own["first_ms"])
    finally:
        client.close()
    p50, p95 = percentile(pipeline, 0.5), percentile(pipeline, 0.95)
    s50, s95 = percentile(direct, 0.5), percentile(direct, 0.95)
    return {
        "prompts": prompts,
        "stub_chunk_delay_s": 0.01,
        "pipeline_first_delta": stats(pipeline),
        "pipeline_start_event": stats(start_events),
        "stub_direct_first_chunk": stats(direct),
        "added_by_pipeline_ms": {
            "p50": round(p50 - s50, 1) if p50 is not None and s50 is not None else None,
            "p95": round(p95 - s95, 1) if p95 is not None and s95 is not None else None,
        },
        "paired_difference": stats(diffs),
        "errors": dict(errors),
    }


def run_level(sessions: list[Session], level: int) -> list[dict[str, Any]]:
    results: list[dict[str, Any] | None] = [None] * level
    barrier = threading.Barrier(level, timeout=60)

    def worker(i: int) -> None:
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            results[i] = {"error": "barrier_broken"}
            return
        try:
            results[i] = sessions[i % len(sessions)].stream_prompt(PROMPT.format(n=f"{level}-{i}"))
        except Exception as exc:
            results[i] = {"error": f"client_exception: {type(exc).__name__}", "detail": str(exc)[:200]}

    threads = [threading.Thread(target=worker, args=(i,), daemon=True, name=f"bench-{level}-{i}")
               for i in range(level)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + STREAM_DEADLINE_S + 90
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    return [r if r is not None else {"error": "unfinished_at_deadline"} for r in results]


def peak_streaming(results: list[dict[str, Any]]) -> int:
    """The most answers streaming at the same instant (between their first delta and their done event)."""
    edges = []
    for r in results:
        if r.get("first_delta_ms") is not None and r.get("done_ms") is not None:
            edges.append((r["sent_at"] + r["first_delta_ms"] / 1000, 1))
            edges.append((r["sent_at"] + r["done_ms"] / 1000, -1))
    peak = current = 0
    for _, step in sorted(edges):
        current += step
        peak = max(peak, current)
    return peak


def summarise_level(level: int, results: list[dict[str, Any]], wall_s: float) -> dict[str, Any]:
    errors = Counter(r["error"] for r in results if r.get("error"))
    details = sorted({r["detail"] for r in results if r.get("detail")})[:5]
    ok = [r for r in results if not r.get("error")]
    return {
        "level": level,
        "ok": len(ok),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "error_details": details,
        "wall_s": round(wall_s, 2),
        "completed_per_s": round(len(ok) / wall_s, 1) if wall_s else None,
        "peak_streaming_at_once": peak_streaming(ok),
        "total_stream": stats([r["done_ms"] for r in ok]),
        "first_token": stats([r["first_delta_ms"] for r in ok if r.get("first_delta_ms") is not None]),
        "start_event": stats([r["start_ms"] for r in ok if r.get("start_ms") is not None]),
    }


# --------------------------------------------------------------------------- main


def git(*args: str) -> str:
    with contextlib.suppress(Exception):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
    return ""


def machine_info(fd_limits: dict[str, int]) -> dict[str, Any]:
    import django
    import uvicorn

    meminfo = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            key, _, value = line.partition(":")
            meminfo[key] = value.strip()
    return {
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "memory_total": meminfo.get("MemTotal"),
        "git_commit": git("rev-parse", "--short", "HEAD"),
        "git_dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        "django": django.get_version(),
        "uvicorn": uvicorn.__version__,
        "fd_limit": fd_limits,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=100, help="sequential prompts for time to first token")
    parser.add_argument("--levels", default="100,200,300,500", help="concurrent streams per step, comma-separated")
    parser.add_argument("--stream-seconds", type=float, default=4.0, help="how long each answer streams at a level")
    parser.add_argument("--pool-size", type=int, default=None, help="DB_POOL_MAX_SIZE for uvicorn (default 20)")
    parser.add_argument("--pause", type=float, default=3.0, help="seconds between levels")
    parser.add_argument("--quick", action="store_true", help="smoke run: 20 prompts, levels 50,100, 3 s streams")
    args = parser.parse_args()
    if args.quick:
        args.prompts, args.levels, args.stream_seconds = 20, "50,100", 3.0
    levels = [int(x) for x in args.levels.split(",") if x.strip()]
    if not levels or min(levels) < 1 or max(levels) > 2000 or not 1 <= args.prompts <= 10_000:
        parser.error("levels must be 1..2000 and prompts 1..10000")

    began = time.monotonic()
    prepare_environment(DATA_DIR, drop=("AKAGI_LLM_DEFAULT_MODEL",))
    os.environ["PYTHONUNBUFFERED"] = "1"
    if args.pool_size is not None:
        os.environ["DB_POOL_MAX_SIZE"] = str(args.pool_size)
    fd_limits = raise_fd_limit()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    pieces = -(-len(ANSWER) // CHUNK_SIZE)
    chunk_delay = round(args.stream_seconds / max(1, pieces - 1), 4)
    report: dict[str, Any] = {
        "bench": "chat_pipeline",
        "machine": machine_info(fd_limits),
        "config": {
            "data_dir": str(DATA_DIR.relative_to(ROOT)),
            "db_pool_max_size": int(os.environ.get("DB_POOL_MAX_SIZE", "20")),
            "db_pool_timeout_s": float(os.environ.get("DB_POOL_TIMEOUT", "30")),
            "uvicorn": "1 process, --lifespan off, no --limit-concurrency",
            "stub": "in this process (tests/support/llm_stub.py), ThreadingHTTPServer",
            "answer_chars": len(ANSWER), "chunk_size": CHUNK_SIZE, "chunks": pieces,
            "concurrency_chunk_delay_s": chunk_delay, "users": [u for u, _ in USERS], "tenant": TENANT,
            "quick": args.quick,
        },
    }
    stub = uvicorn_proc = None
    stub_errors: Counter[str] = Counter()
    try:
        log(f"setup: migrate, seed, cap (data dir {DATA_DIR})")
        manage("migrate_schemas", "-v0", timeout=MANAGE_TIMEOUT_S)
        manage("seed_demo", timeout=MANAGE_TIMEOUT_S)
        manage("tenant_set_plan", TENANT, "--monthly-char-cap", "1000000000", timeout=MANAGE_TIMEOUT_S)

        from config import embedded
        from tests.support.llm_stub import start_stub

        pg = embedded.ensure_postgres()  # already running: just its endpoint, for the connection count
        stub = start_stub()
        stub_errors = count_stub_errors(stub)
        models = [stub.model_config(MODEL_NAME, "openai_compatible", deployment=DEPLOYMENT, max_output_chars=4000,
                                    context_chars=16000)]
        port = free_port()
        log(f"starting uvicorn on {HOST}:{port} (log {LOG_PATH})")
        uvicorn_proc = start_uvicorn(port, models)
        report["config"]["uvicorn_fd_soft_limit"] = process_fd_limit(uvicorn_proc.pid)

        sessions = []
        for who, password in USERS:
            session = Session(port, f"{TENANT}.localhost")
            session.login(who, password)
            sessions.append(session)

        stub.set_behaviour(answer=ANSWER, chunk_size=CHUNK_SIZE, chunk_delay=0.0)
        warm = [sessions[i % len(sessions)].stream_prompt(PROMPT.format(n=f"warm-{i}")) for i in range(5)]
        report["warm_up_errors"] = [r["error"] for r in warm if r["error"]]

        log(f"time to first token: {args.prompts} sequential prompts")
        report["time_to_first_token"] = measure_ttft(sessions, stub, args.prompts)

        stub.set_behaviour(answer=ANSWER, chunk_size=CHUNK_SIZE, chunk_delay=chunk_delay)
        per_level = []
        for level in levels:
            if uvicorn_proc.poll() is not None:
                per_level.append({"level": level, "skipped": f"uvicorn exited with {uvicorn_proc.returncode}"})
                continue
            if time.monotonic() - began > 540:
                per_level.append({"level": level, "skipped": "time budget of the run exhausted"})
                continue
            log(f"concurrency level {level}")
            offset = log_size(LOG_PATH)
            with Monitor(uvicorn_proc.pid, port, pg) as monitor:
                t0 = time.monotonic()
                results = run_level(sessions, level)
                wall = time.monotonic() - t0
            time.sleep(1.0)  # let the server finish writing its log lines for this level
            summary = summarise_level(level, results, wall)
            summary["peak"] = monitor.peak
            summary["server_log"] = scan_log(LOG_PATH, offset, log_size(LOG_PATH))
            per_level.append(summary)
            log(f"level {level}: ok={summary['ok']} errors={summary['errors']} {summary['error_kinds']}")
            time.sleep(args.pause)
        passed = 0
        for entry in per_level:
            if entry.get("errors", 1) != 0 or "skipped" in entry:
                break
            passed = entry["level"]
        report["concurrency"] = {
            "stream_seconds_target": args.stream_seconds,
            "max_level_without_errors": passed,
            "target": 500,
            "requirement": 100,
            "levels": per_level,
        }
    except Exception as exc:
        report["failure"] = f"{type(exc).__name__}: {exc}"[:2000]
    finally:
        stop_process(uvicorn_proc)
        if stub is not None:
            with contextlib.suppress(Exception):
                stub.stop()
        if stub is not None:
            report["stub_handler_errors"] = dict(stub_errors)
        report["server_log_total"] = {**scan_log(LOG_PATH), "path": str(LOG_PATH.relative_to(ROOT))}
        try:
            report["embedded_stop"] = stop_embedded()
        except Exception as exc:
            report["embedded_stop"] = f"failed: {exc}"
        report["elapsed_s"] = round(time.monotonic() - began, 1)
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 1 if "failure" in report else 0


if __name__ == "__main__":
    sys.exit(main())
