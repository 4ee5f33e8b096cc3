"""Shared fixtures: one test database per run with the demo municipalities created once, real servers only.

The session seeds demo-a, demo-b and demo-c (the same code `make run` uses), committed, so that processes the
tests start (a Celery worker, uvicorn) see them. Each test then runs inside a transaction that is rolled back.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from tests.support.llm_stub import llm_stub, llm_stub_server  # noqa: F401 - fixtures for every suite

BASE_DIR = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

HOST_A = "demo-a.localhost"
HOST_B = "demo-b.localhost"
PUBLIC_HOST = "localhost"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from tenants.demo import seed_demo

    with django_db_blocker.unblock():
        assert seed_demo(), "the test database should start empty"
    yield
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        # Subprocesses (uvicorn, the worker) have exited, but their sessions may linger a moment and would
        # make dropping the test database fail.
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


def _clear_this_runs_cache() -> None:
    import redis

    client = redis.Redis.from_url(settings.REDIS_CACHE_URL)
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    # django-tenants keys look like "<schema>:<prefix>:<version>:<key>".
    keys = list(client.scan_iter(match=f"*:{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(autouse=True)
def _reset_schema_and_cache():
    _clear_this_runs_cache()
    yield
    connection.set_schema_to_public()


@pytest.fixture
def tenant_a(db):
    from tenants.models import Tenant

    return Tenant.objects.get(slug="demo-a")


@pytest.fixture
def tenant_b(db):
    from tenants.models import Tenant

    return Tenant.objects.get(slug="demo-b")


@pytest.fixture
def client_a(db) -> Client:
    return Client(HTTP_HOST=HOST_A)


@pytest.fixture
def client_b(db) -> Client:
    return Client(HTTP_HOST=HOST_B)


@pytest.fixture
def public_client(db) -> Client:
    return Client(HTTP_HOST=PUBLIC_HOST)


def login(client: Client, identifier: str, password: str):
    return client.post("/accounts/login/", {"login": identifier, "password": password})


def page_h1(response) -> list[str]:
    return re.findall(r"<h1[^>]*>(.*?)</h1>", response.content.decode())


# --------------------------------------------------------------------------- processes against the test DB


def server_env() -> dict[str, str]:
    """Environment for a subprocess that must use this run's test database and Redis."""
    db = connection.settings_dict
    host = quote(db["HOST"], safe="") if db["HOST"].startswith("/") else db["HOST"]
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"postgresql://{db['USER']}@{host}:{db['PORT']}/{db['NAME']}",
        REDIS_URL=settings.REDIS_URL,
        REDIS_CACHE_URL=settings.REDIS_CACHE_URL,
        AKAGI_DATA_DIR=os.environ["AKAGI_DATA_DIR"],
        PYTHONUNBUFFERED="1",
    )
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, tmp_path_factory):
    from config.celery import app

    log = tmp_path_factory.mktemp("worker") / "worker.log"
    name = f"test-{os.getpid()}@%h"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [str(BIN / "celery"), "-A", "config", "worker", "--pool=solo", "-l", "info", "-n", name],
            cwd=BASE_DIR, env=server_env(), stdout=out, stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while not app.control.ping(timeout=0.5):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"Celery worker did not start:\n{log.read_text()[-3000:]}")
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


STUB_MODEL_NAME = "stub-gpt"


def stub_models(stub, **extra) -> list[dict]:
    """The catalogue for tests: one OpenAI-compatible model served by the stub LLM server."""
    return [stub.model_config(STUB_MODEL_NAME, "openai_compatible", deployment="stub-gpt-4o",
                              max_output_chars=800, context_chars=16_000, price_per_1k_chars_yen=2.0, **extra)]


@pytest.fixture
def stub_llm(llm_stub, settings):  # noqa: F811 - the fixture above
    """In-process requests use the stub LLM server as their only model."""
    settings.AKAGI_LLM_MODELS = stub_models(llm_stub)
    settings.AKAGI_LLM_READ_TIMEOUT = 3
    settings.AKAGI_LLM_BACKOFF_BASE = 0.01
    settings.AKAGI_LLM_BACKOFF_MAX = 0.05
    return llm_stub


@pytest.fixture(scope="session")
def live_server_url(django_db_setup, tmp_path_factory, llm_stub_server):  # noqa: F811
    """A real uvicorn serving the test database, answering through the stub LLM server.

    Tenants are reached as <slug>.localhost:<port>.
    """
    import json

    port = free_port()
    log = tmp_path_factory.mktemp("uvicorn") / "uvicorn.log"
    env = server_env()
    env["AKAGI_LLM_MODELS"] = json.dumps(stub_models(llm_stub_server))
    env["AKAGI_LLM_READ_TIMEOUT"] = "5"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [str(BIN / "uvicorn"), "config.asgi:application", "--host", "127.0.0.1", "--port", str(port),
             "--lifespan", "off"],
            cwd=BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=1)
            break
        except urllib.error.HTTPError:
            break  # the server answers (404 for the bare IP host): it is up
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"uvicorn did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
    yield f"http://{{host}}:{port}"
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
