"""Production embeddings: Azure OpenAI and OpenAI-compatible servers, through the ``openai`` client.

The shared LLM stub speaks chat only, so a small embeddings server lives here (real HTTP on 127.0.0.1).
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from llm import embeddings
from llm.base import ProviderError
from llm.config import SETTING_NAMES as LLM_SETTINGS

ALL_SETTINGS = dict.fromkeys((*LLM_SETTINGS, *embeddings.SETTING_NAMES))


@dataclass
class Call:
    path: str
    query: dict
    headers: dict
    body: dict


@dataclass
class EmbeddingServer:
    """Answers ``POST .../embeddings`` with deterministic, deliberately unnormalised vectors."""

    dimensions: int = 16
    failures: list[int] = field(default_factory=list)  # statuses to answer with first, one per request
    calls: list[Call] = field(default_factory=list)
    port: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def azure_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def vector(self, text: str, dimensions: int) -> list[float]:
        digest = hashlib.sha256(text.encode()).digest()
        return [3.0 * ((digest[i % len(digest)] / 255.0) - 0.5) + 0.01 for i in range(dimensions)]


def _handler(server: EmbeddingServer):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            url = urlsplit(self.path)
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            server.calls.append(Call(url.path, parse_qs(url.query), {k.lower(): v for k, v in self.headers.items()},
                                     body))
            if server.failures:
                status = server.failures.pop(0)
                self._send(status, {"error": {"message": "stub failure", "type": "server_error", "code": None}})
                return
            inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
            size = body.get("dimensions") or server.dimensions
            data = [{"object": "embedding", "index": i, "embedding": server.vector(text, size)}
                    for i, text in reversed(list(enumerate(inputs)))]  # out of order: the client must sort
            self._send(200, {"object": "list", "data": data, "model": body["model"],
                             "usage": {"prompt_tokens": 1, "total_tokens": 1}})

        def _send(self, status: int, payload: dict):
            raw = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    return Handler


@pytest.fixture
def embedding_server():
    server = EmbeddingServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    server.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield server
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def nothing_configured(monkeypatch):
    for name in ALL_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    fast = {"AKAGI_LLM_BACKOFF_BASE": 0.01, "AKAGI_LLM_BACKOFF_MAX": 0.02, "AKAGI_LLM_READ_TIMEOUT": 5}
    with override_settings(**(ALL_SETTINGS | fast)):
        yield


def azure(settings, server: EmbeddingServer, **extra) -> None:
    settings.AZURE_OPENAI_ENDPOINT = server.azure_endpoint
    settings.AZURE_OPENAI_API_KEY = "azure-key"
    settings.AZURE_OPENAI_EMBEDDING_DEPLOYMENT = "embed-3-small-japaneast"
    for name, value in extra.items():
        setattr(settings, name, value)


def norm(vector: list[float]) -> float:
    return math.sqrt(sum(value * value for value in vector))


def test_azure_requests_go_to_the_deployment_in_batches_and_vectors_come_back_normalised(settings, embedding_server):
    azure(settings, embedding_server, AKAGI_EMBEDDING_BATCH_SIZE=2)
    embedding_server.dimensions = 1536
    texts = ["一", "二", "三", "四", "五"]

    vectors = embeddings.embed_passages(texts)

    assert embeddings.embedding_model_name() == "azure:embed-3-small-japaneast:1536"
    assert embeddings.embedding_dimensions() == 1536
    assert [len(call.body["input"]) for call in embedding_server.calls] == [2, 2, 1]
    call = embedding_server.calls[0]
    assert call.path == "/openai/deployments/embed-3-small-japaneast/embeddings"
    assert call.query["api-version"] == ["2024-10-21"] and call.headers["api-key"] == "azure-key"
    assert "dimensions" not in call.body  # the model's native size is not sent
    assert all(len(vector) == 1536 and abs(norm(vector) - 1) < 1e-9 for vector in vectors)
    # In the order of the texts even though the server answered in reverse.
    expected = embedding_server.vector("三", 1536)
    assert vectors[2] == pytest.approx([value / norm(expected) for value in expected])


def test_a_shortened_azure_embedding_asks_for_its_dimensions(settings, embedding_server):
    azure(settings, embedding_server, AZURE_OPENAI_EMBEDDING_DIMENSIONS=256)

    vector = embeddings.embed_query("手数料")

    assert len(vector) == 256 and embedding_server.calls[0].body["dimensions"] == 256
    assert embeddings.embedding_model_name() == "azure:embed-3-small-japaneast:256"


def test_an_openai_compatible_server_gets_the_model_id_and_its_own_key(settings, embedding_server):
    settings.OPENAI_COMPAT_BASE_URL = "http://127.0.0.1:9/v1"  # the chat server: not used for embeddings here
    settings.OPENAI_COMPAT_API_KEY = "chat-key"
    settings.OPENAI_COMPAT_EMBEDDING_BASE_URL = embedding_server.base_url
    settings.OPENAI_COMPAT_EMBEDDING_API_KEY = "embedding-key"
    settings.OPENAI_COMPAT_EMBEDDING_MODEL = "multilingual-e5-large"
    settings.OPENAI_COMPAT_EMBEDDING_DIMENSIONS = 16

    vector = embeddings.embed_query("転入届")

    [call] = embedding_server.calls
    assert call.path == "/v1/embeddings" and call.body["model"] == "multilingual-e5-large"
    assert call.headers["authorization"] == "Bearer embedding-key"
    assert len(vector) == 16 and abs(norm(vector) - 1) < 1e-9


def test_transient_failures_are_retried_and_lasting_ones_end_in_a_japanese_message(settings, embedding_server):
    azure(settings, embedding_server, AZURE_OPENAI_EMBEDDING_DIMENSIONS=16)
    embedding_server.failures = [503, 429]
    assert len(embeddings.embed_query("再試行")) == 16
    assert len(embedding_server.calls) == 3

    embedding_server.failures = [401]
    with pytest.raises(ProviderError) as caught:
        embeddings.embed_query("鍵が違う")
    assert caught.value.code == "auth" and "管理者" in caught.value.user_message
    assert len(embedding_server.calls) == 4  # not retried

    embedding_server.failures = [500, 500, 500]
    with pytest.raises(ProviderError) as caught:
        embeddings.embed_passages(["障害"])
    assert caught.value.code == "server_error" and caught.value.retryable


def test_a_server_returning_another_size_than_configured_is_refused(settings, embedding_server):
    settings.OPENAI_COMPAT_BASE_URL = embedding_server.base_url
    settings.OPENAI_COMPAT_EMBEDDING_MODEL = "bge-m3"
    settings.OPENAI_COMPAT_EMBEDDING_DIMENSIONS = 1024  # the stub answers 16

    with pytest.raises(ProviderError) as caught:
        embeddings.embed_query("大きさ")
    assert caught.value.code == "config" and "1024" in caught.value.detail


@pytest.mark.parametrize(
    ("configuration", "complaint"),
    [
        ({"AZURE_OPENAI_EMBEDDING_DEPLOYMENT": "e", "OPENAI_COMPAT_EMBEDDING_MODEL": "m",
          "AZURE_OPENAI_ENDPOINT": "http://x", "AZURE_OPENAI_API_KEY": "k"}, "not both"),
        ({"AZURE_OPENAI_EMBEDDING_DEPLOYMENT": "e"}, "AZURE_OPENAI_ENDPOINT"),
        ({"OPENAI_COMPAT_EMBEDDING_MODEL": "m", "OPENAI_COMPAT_BASE_URL": "http://x"},
         "OPENAI_COMPAT_EMBEDDING_DIMENSIONS"),
        ({"OPENAI_COMPAT_EMBEDDING_MODEL": "m", "OPENAI_COMPAT_EMBEDDING_DIMENSIONS": 8}, "BASE_URL"),
        ({"AKAGI_EMBEDDING_BATCH_SIZE": "0"}, "positive"),
    ],
)
def test_an_incomplete_or_ambiguous_configuration_is_refused_loudly(settings, configuration, complaint):
    for name, value in configuration.items():
        setattr(settings, name, value)
    with pytest.raises(ImproperlyConfigured, match=complaint):
        embeddings.embedding_config()
