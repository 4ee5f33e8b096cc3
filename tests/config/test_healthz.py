"""`GET /healthz` tells a load balancer whether the database, Redis and the workers are up."""

import json

import pytest
from django.test import Client, override_settings

from config import embedded, health


@pytest.fixture
def spare_redis(tmp_path, monkeypatch):
    """A second real redis-server, so one can be stopped without disturbing the run's own."""
    monkeypatch.setenv("AKAGI_DATA_DIR", str(tmp_path))
    endpoint = embedded.ensure_redis()
    yield endpoint
    embedded.stop_redis()


def _get(host: str = "demo-a.localhost"):
    response = Client(HTTP_HOST=host).get("/healthz")
    return response.status_code, json.loads(response.content)


def test_healthz_is_200_when_database_redis_and_a_worker_are_up(db, celery_worker_process):
    health._worker_cache["ok_until"] = 0.0
    status, payload = _get()
    assert status == 200
    assert payload["status"] == "ok"
    assert payload["database"]["ok"] and payload["redis"]["ok"]
    assert payload["workers"]["ok"] and payload["workers"]["workers"] >= 1


def test_healthz_answers_for_any_host_including_unknown_ones(db, celery_worker_process):
    status, payload = _get("10.0.0.5")
    assert status == 200 and payload["status"] == "ok"


def test_healthz_reports_a_stopped_redis_as_503(db, celery_worker_process, spare_redis):
    with override_settings(REDIS_URL=spare_redis.url()):
        status, payload = _get()
        assert status == 200 and payload["redis"]["ok"]

        embedded.stop_redis()
        status, payload = _get()
    assert status == 503
    assert payload["status"] == "unavailable"
    assert payload["redis"]["ok"] is False
    assert payload["database"]["ok"] is True


def test_healthz_reports_missing_workers_as_503(db, monkeypatch):
    from config.celery import app

    health._worker_cache["ok_until"] = 0.0
    # A real ping through the real broker, addressed to a worker name that does not exist.
    real_ping = app.control.ping
    monkeypatch.setattr(app.control, "ping", lambda timeout: real_ping(destination=["nobody@nowhere"],
                                                                       timeout=timeout))
    status, payload = _get()
    assert status == 503
    assert payload["workers"]["ok"] is False
