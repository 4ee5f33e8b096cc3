"""Reading the chat endpoint's server-sent events in tests."""

from __future__ import annotations

import json

from asgiref.sync import async_to_sync
from django.db import connection

from tests.conftest import login


def parse_sse(raw: str) -> list[tuple[str, dict]]:
    events = []
    for block in raw.split("\n\n"):
        name, data = "message", ""
        for line in block.splitlines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data += line[6:]
        if data:
            events.append((name, json.loads(data)))
    return events


def send(client, prompt: str = "", **fields) -> list[tuple[str, dict]]:
    response = client.post("/chat/send/", {"prompt": prompt, **{k: str(v) for k, v in fields.items()}})
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/event-stream")
    raw = b"".join(async_to_sync(_collect)(response.streaming_content)).decode()
    connection.set_schema_to_public()
    return parse_sse(raw)


async def _collect(chunks) -> list[bytes]:
    return [chunk if isinstance(chunk, bytes) else chunk.encode() async for chunk in chunks]


def names(events) -> list[str]:
    return [name for name, _ in events]


def first(events, name: str) -> dict:
    return next(data for n, data in events if n == name)


def logged_in(client, who: str = "A002", password: str = "Shokuin#Demo2026"):  # noqa: S107 - demo account
    assert login(client, who, password).status_code == 302
    return client
