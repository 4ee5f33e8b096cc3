"""A small OpenAI-compatible HTTP server for tests: real sockets, real SSE, scriptable failures.

Serves ``POST /v1/chat/completions`` (OpenAI, vLLM, Ollama...) and
``POST /openai/deployments/{deployment}/chat/completions?api-version=...`` (Azure OpenAI), streaming or not,
so that the real ``openai`` client is exercised end to end. Usage::

    with start_stub() as stub:                     # or the ``llm_stub`` / ``llm_stub_server`` fixtures
        stub.set_behaviour(fail_status=429, fail_count=1, retry_after=0)
        ... point a provider at stub.base_url (OpenAI) or stub.azure_endpoint (Azure) ...
        stub.requests                              # JSON bodies received, oldest first
        stub.calls                                 # StubRequest records: path, query, headers, body

Register the fixtures in a conftest with ``from tests.support.llm_stub import llm_stub, llm_stub_server``.
One stub serves the whole session; ``llm_stub`` resets behaviour and records around each test.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

AZURE_PATH = re.compile(r"/openai/deployments/([^/]+)/chat/completions")
OPENAI_PATH = "/v1/chat/completions"
MAX_HANG_SECONDS = 120  # a hung handler gives up eventually even if nobody calls reset() or stop()

ERROR_BODIES: dict[int, dict[str, Any]] = {
    400: {"message": "The response was filtered due to the prompt triggering Azure OpenAI's content management "
                     "policy.", "type": None, "param": "prompt", "code": "content_filter", "status": 400,
          "innererror": {"code": "ResponsibleAIPolicyViolation",
                         "content_filter_result": {"violence": {"filtered": True, "severity": "high"}}}},
    401: {"message": "Access denied due to invalid subscription key or wrong API endpoint.",
          "type": "invalid_request_error", "code": "invalid_api_key"},
    403: {"message": "Public access is disabled.", "type": "invalid_request_error", "code": "AuthenticationFailed"},
    429: {"message": "Rate limit is exceeded. Try again later.", "type": "requests", "code": "rate_limit_exceeded"},
}
SERVER_ERROR_BODY = {"message": "The server had an error while processing your request.", "type": "server_error",
                     "code": None}


@dataclasses.dataclass(frozen=True)
class Behaviour:
    """How the stub answers. Change with ``stub.set_behaviour(field=value, ...)``; ``reset()`` restores these."""

    answer: str | None = None  # fixed answer text; None: a Japanese Markdown answer echoing the question's length
    echo: bool = False  # answer with the received messages, one "role: content" line each
    chunk_size: int = 8  # characters per streamed delta
    chunk_delay: float = 0.0  # seconds between deltas
    finish_reason: str = "stop"  # e.g. "content_filter" or "length"
    usage: bool = True  # report usage when the request asks with stream_options.include_usage
    fail_status: int | None = None  # answer the next ``fail_count`` requests with this HTTP status
    fail_count: int = 1
    fail_code: str | None = None  # error.code in the failure body (400 defaults to Azure's "content_filter")
    fail_message: str | None = None  # error.message in the failure body
    retry_after: float | None = None  # Retry-After header on failures, in seconds
    fail_after_chunks: int | None = None  # break every stream after this many content deltas...
    fail_mode: str = "close"  # ...by dropping the connection ("close") or sending an error event ("error_event")
    hang: bool = False  # read the request, then never answer (until reset() or stop())
    hang_after_chunks: int | None = None  # stream this many deltas, then go silent without closing


@dataclasses.dataclass(frozen=True)
class StubRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: dict[str, Any]
    deployment: str | None  # set for the Azure path


def default_answer(messages: list[dict[str, Any]]) -> str:
    last = next((m.get("content") or "" for m in reversed(messages) if m.get("role") == "user"), "")
    length = len(last) if isinstance(last, str) else 0
    return (
        f"承知しました。ご質問（{length}文字）にお答えします。\n\n"
        "- これはテスト用スタブサーバーの回答です。\n"
        f"- 最後のメッセージの長さ：{length}文字\n"
    )


class LLMStub:
    """The server; thread-safe. Start with ``start_stub()`` or ``LLMStub().start()``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._lock = threading.Lock()
        self._behaviour = Behaviour()
        self._failures_left = 0
        self._calls: list[StubRequest] = []
        self._release = threading.Event()  # set to let hanging handlers go
        self._ids = itertools.count(1)
        self._server = _Server((host, port), _Handler)
        self._server.stub = self
        self._thread = threading.Thread(target=self._server.serve_forever, name="llm-stub", daemon=True)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> LLMStub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LLMStub:
        return self if self._thread.is_alive() else self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """For ``openai.AsyncOpenAI(base_url=...)`` and OPENAI_COMPAT_BASE_URL."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def azure_endpoint(self) -> str:
        """For ``openai.AsyncAzureOpenAI(azure_endpoint=...)`` and AZURE_OPENAI_ENDPOINT."""
        return f"http://127.0.0.1:{self.port}"

    def model_config(self, name: str = "stub-model", provider: str = "openai_compatible", **extra: Any) -> dict:
        """An AKAGI_LLM_MODELS entry pointing at this stub (Azure entries need ``api_key_env=...``)."""
        url_key = "endpoint" if provider == "azure" else "base_url"
        url = self.azure_endpoint if provider == "azure" else self.base_url
        return {"name": name, "label": f"{name}（テスト用スタブ）", "provider": provider, url_key: url, **extra}

    # ------------------------------------------------------------------ behaviour and records

    @property
    def behaviour(self) -> Behaviour:
        return self._behaviour

    def set_behaviour(self, **changes: Any) -> None:
        """Change some fields of the Behaviour; the others keep their current values."""
        with self._lock:
            self._behaviour = dataclasses.replace(self._behaviour, **changes)
            if {"fail_status", "fail_count"} & set(changes):
                self._failures_left = self._behaviour.fail_count if self._behaviour.fail_status else 0

    def reset(self) -> None:
        """Default behaviour, no records, and let any hanging handler finish."""
        with self._lock:
            self._behaviour = Behaviour()
            self._failures_left = 0
            self._calls = []
            self._release.set()
            self._release = threading.Event()

    @property
    def calls(self) -> list[StubRequest]:
        with self._lock:
            return list(self._calls)

    @property
    def requests(self) -> list[dict[str, Any]]:
        """The JSON bodies received, oldest first."""
        return [call.body for call in self.calls]

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> list[StubRequest]:
        deadline = time.monotonic() + timeout
        while len(self.calls) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.calls

    def _admit(self, call: StubRequest) -> tuple[Behaviour, bool, threading.Event, int]:
        """Record a request and decide, atomically, whether it is one of those that fail."""
        with self._lock:
            self._calls.append(call)
            fail = self._failures_left > 0
            if fail:
                self._failures_left -= 1
            return self._behaviour, fail, self._release, next(self._ids)


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a hung or streaming handler never blocks the test process from exiting
    block_on_close = False
    request_queue_size = 1024  # listen backlog: hundreds of concurrent streams connect at once
    stub: LLMStub


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked encoding, which makes a dropped stream detectable
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return self._json(400, {"error": {"message": "invalid JSON", "type": "invalid_request_error"}})
        query = dict(parse_qsl(url.query))
        azure = AZURE_PATH.fullmatch(url.path)
        if url.path != OPENAI_PATH and not azure:
            return self._json(404, {"error": {"code": "404", "message": "Resource not found"}})
        if azure and "api-version" not in query:
            return self._json(404, {"error": {"code": "404", "message": "Resource not found (no api-version)"}})
        call = StubRequest(
            method="POST", path=url.path, query=query, headers={k.lower(): v for k, v in self.headers.items()},
            body=body, deployment=azure.group(1) if azure else None,
        )
        behaviour, fail, release, number = self.server.stub._admit(call)
        if behaviour.hang:
            release.wait(MAX_HANG_SECONDS)
            self.close_connection = True
            return None
        if fail:
            return self._failure(behaviour)
        messages = body.get("messages") or []
        if behaviour.echo:
            answer = "\n".join(f"{m.get('role')}: {m.get('content')}" for m in messages)
        else:
            answer = behaviour.answer if behaviour.answer is not None else default_answer(messages)
        base = {"id": f"chatcmpl-stub-{number}", "created": int(time.time()), "model": body.get("model", "")}
        usage = {
            "prompt_tokens": sum(len(str(m.get("content") or "")) for m in messages),
            "completion_tokens": len(answer),
        }
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        if not body.get("stream"):
            message = {"role": "assistant", "content": answer}
            choice = {"index": 0, "message": message, "finish_reason": behaviour.finish_reason}
            return self._json(200, {**base, "object": "chat.completion", "choices": [choice], "usage": usage})
        include_usage = behaviour.usage and bool((body.get("stream_options") or {}).get("include_usage"))
        self._stream(behaviour, release, base, answer, usage if include_usage else None, azure=bool(azure))
        return None

    def _failure(self, behaviour: Behaviour) -> None:
        status = behaviour.fail_status or 500
        error = dict(ERROR_BODIES.get(status, SERVER_ERROR_BODY))
        if behaviour.fail_code is not None:
            error["code"] = behaviour.fail_code
        if behaviour.fail_message is not None:
            error["message"] = behaviour.fail_message
        headers = {} if behaviour.retry_after is None else {"Retry-After": f"{behaviour.retry_after:g}"}
        self._json(status, {"error": error}, headers)

    def _json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", "stub-request")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _stream(
        self, behaviour: Behaviour, release: threading.Event, base: dict[str, Any], answer: str,
        usage: dict[str, int] | None, *, azure: bool,
    ) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def event(choices: list[dict[str, Any]], **extra: Any) -> None:
            payload = {**base, "object": "chat.completion.chunk", "choices": choices, **extra}
            if usage is not None and "usage" not in extra:
                payload["usage"] = None
            self._chunk(f"data: {json.dumps(payload, ensure_ascii=False)}\n\n".encode())

        def delta(content: dict[str, Any], finish_reason: str | None = None) -> list[dict[str, Any]]:
            return [{"index": 0, "delta": content, "finish_reason": finish_reason}]

        try:
            if azure:  # Azure's first chunk has no choices, only the prompt's filter results
                event([], prompt_filter_results=[{"prompt_index": 0, "content_filter_results": {}}])
            event(delta({"role": "assistant", "content": ""}))
            pieces = [answer[i : i + behaviour.chunk_size] for i in range(0, len(answer), behaviour.chunk_size)]
            for sent, piece in enumerate(pieces):
                if sent == behaviour.hang_after_chunks:
                    release.wait(MAX_HANG_SECONDS)
                    self.close_connection = True
                    return
                if sent == behaviour.fail_after_chunks:
                    return self._break_stream(behaviour)
                if behaviour.chunk_delay and sent:
                    time.sleep(behaviour.chunk_delay)
                event(delta({"content": piece}))
            event(delta({}, behaviour.finish_reason))
            if usage is not None:
                event([], usage=usage)
            self._chunk(b"data: [DONE]\n\n")
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away (timeout, cancelled stream): nothing to do

    def _break_stream(self, behaviour: Behaviour) -> None:
        if behaviour.fail_mode == "error_event":
            error = {"message": "The server had an error while processing your request.", "type": "server_error",
                     "code": behaviour.fail_code or "internal_error"}
            self._chunk(f"data: {json.dumps({'error': error})}\n\n".encode())
            self.wfile.write(b"0\r\n\r\n")
        else:
            # No terminating zero-length chunk: the client sees an incomplete body, as when a proxy drops it.
            self.close_connection = True

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%X\r\n%s\r\n" % (len(data), data))


def start_stub() -> LLMStub:
    """A running stub on a free port of 127.0.0.1; ``stop()`` it, or use it as a context manager."""
    return LLMStub().start()


@pytest.fixture(scope="session")
def llm_stub_server() -> Iterator[LLMStub]:
    """One stub for the whole session (starting one is cheap, but the session may fire hundreds of streams)."""
    with start_stub() as stub:
        yield stub


@pytest.fixture
def llm_stub(llm_stub_server: LLMStub) -> Iterator[LLMStub]:
    """The session's stub with default behaviour and no records, reset again afterwards."""
    llm_stub_server.reset()
    yield llm_stub_server
    llm_stub_server.reset()
