"""``GET /healthz``: database, Redis and Celery workers, as JSON; 503 when any is down."""

from __future__ import annotations

import time

from django.conf import settings
from django.db import connection
from django.http import JsonResponse

_worker_cache: dict[str, float] = {"ok_until": 0.0}


def check_database() -> dict:
    started = time.monotonic()
    try:
        connection.set_schema_to_public()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means "down", and the reason goes to the operator
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}


def check_redis() -> dict:
    import redis

    started = time.monotonic()
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        client.ping()
        client.close()
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}


def check_workers() -> dict:
    # A broadcast ping waits for its timeout; a recent success is reused so probes every few seconds stay cheap.
    now = time.monotonic()
    if _worker_cache["ok_until"] > now:
        return {"ok": True, "workers": int(_worker_cache.get("count", 1)), "cached": True}
    from config.celery import app

    try:
        replies = app.control.ping(timeout=settings.AKAGI_HEALTH_WORKER_TIMEOUT) or []
    except Exception as exc:
        return {"ok": False, "workers": 0, "error": type(exc).__name__}
    if replies:
        _worker_cache.update(ok_until=now + 15, count=len(replies))
        return {"ok": True, "workers": len(replies)}
    return {"ok": False, "workers": 0, "error": "no worker answered"}


def health_payload() -> tuple[dict, int]:
    checks = {"database": check_database(), "redis": check_redis()}
    # Without Redis there is no broker to ping workers through.
    checks["workers"] = check_workers() if checks["redis"]["ok"] else {"ok": False, "workers": 0,
                                                                         "error": "redis down"}
    healthy = all(check["ok"] for check in checks.values())
    return {"status": "ok" if healthy else "unavailable", **checks}, 200 if healthy else 503


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz":
            payload, status = health_payload()
            response = JsonResponse(payload, status=status, json_dumps_params={"ensure_ascii": False})
            response["Cache-Control"] = "no-store"
            return response
        return self.get_response(request)
