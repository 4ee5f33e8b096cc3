"""Talking to the real uvicorn server over HTTP, as a browser would (session cookie, CSRF token)."""

from __future__ import annotations

import http.client
import re
import subprocess
import sys
import urllib.parse
from http.cookies import SimpleCookie

from tests.chat.helpers import parse_sse
from tests.conftest import BASE_DIR, server_env


class LiveSession:
    def __init__(self, base_url: str, host: str):
        parsed = urllib.parse.urlsplit(base_url.format(host=host))
        self.port = parsed.port
        self.host_header = f"{host}:{self.port}"
        self.cookies: dict[str, str] = {}

    def _conn(self, timeout: float = 30) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def _headers(self, extra: dict | None = None) -> dict:
        headers = {"Host": self.host_header, "Referer": f"http://{self.host_header}/"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        headers.update(extra or {})
        return headers

    def _remember(self, response) -> None:
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie(header)
            for key, morsel in cookie.items():
                self.cookies[key] = morsel.value

    def get(self, path: str) -> tuple[int, str]:
        conn = self._conn()
        conn.request("GET", path, headers=self._headers())
        response = conn.getresponse()
        body = response.read().decode()
        self._remember(response)
        conn.close()
        return response.status, body

    def post(self, path: str, fields: dict, timeout: float = 60) -> tuple[int, str]:
        body = urllib.parse.urlencode(fields)
        conn = self._conn(timeout)
        conn.request("POST", path, body=body, headers=self._headers({
            "Content-Type": "application/x-www-form-urlencoded", "X-CSRFToken": self.cookies.get("csrftoken", ""),
        }))
        response = conn.getresponse()
        text = response.read().decode()
        self._remember(response)
        conn.close()
        return response.status, text

    def login(self, identifier: str, password: str) -> None:
        status, body = self.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
        status, _ = self.post("/accounts/login/", {"csrfmiddlewaretoken": token, "login": identifier,
                                                   "password": password})
        assert status == 302, "login failed"

    def chat(self, prompt: str, **fields) -> list[tuple[str, dict]]:
        status, text = self.post("/chat/send/", {"prompt": prompt, **fields}, timeout=120)
        assert status == 200, text[:500]
        return parse_sse(text)


def manage(*args: str) -> str:
    """Run a management command against the test database, committed, as an operator would."""
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=server_env(),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout
