"""Test helpers: a local HTTP receiver that records the portal's POSTs, and app-token REST calls."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import httpx

from b24kit.testing import RunningEmulator


@dataclass
class Post:
    """One POST as it arrived: path, headers and the raw body, plus the body's form pairs."""

    path: str
    headers: dict[str, str]
    body: str
    pairs: list[tuple[str, str]] = field(default_factory=list)

    @property
    def form(self) -> dict[str, str]:
        return dict(self.pairs)


class Receiver:
    """An HTTP server on 127.0.0.1 that answers 200 to every POST and keeps it."""

    def __init__(self) -> None:
        self.posts: list[Post] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                post = Post(self.path, dict(self.headers), body, parse_qsl(body, keep_blank_values=True))
                with receiver._lock:
                    receiver.posts.append(post)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"OK")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def to(self, path: str) -> list[Post]:
        with self._lock:
            return [p for p in self.posts if p.path == path]

    def events(self, name: str, timeout: float = 5.0, count: int = 1) -> list[dict[str, str]]:
        """The forms of the ``name`` events received, waiting up to ``timeout`` for ``count``."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                found = [p.form for p in self.posts if p.form.get("event") == name]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.02)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def install(
    emulator: RunningEmulator, client_id: str = "local.app.1", handler: str | None = None, user_id: int = 1
) -> dict[str, Any]:
    """Install a local application through the admin API; its tokens and application_token."""
    body: dict[str, Any] = {"client_id": client_id, "client_secret": "s3cret", "user_id": user_id}
    if handler:
        body["handler"] = handler
    answer: dict[str, Any] = emulator.admin("apps", body)
    return answer


def bind_app_event(
    emulator: RunningEmulator, receiver: Receiver, *names: str, client_id: str = "app.test"
) -> str:
    """Install a local app and ``event.bind`` each event in ``names`` to ``receiver``; returns its token."""
    token = str(install(emulator, client_id=client_id)["access_token"])
    for name in names:
        response = app_call(emulator, token, "event.bind", {"event": name, "handler": receiver.url()})
        assert response.json().get("result") is True, response.text
    return token


def app_call(
    emulator: RunningEmulator, token: str, method: str, params: dict[str, Any] | None = None
) -> httpx.Response:
    """A REST call as an application: ``auth`` in the JSON body, as the SDKs send it."""
    return emulator.http.post(f"{emulator.base_url}/rest/{method}", json={**(params or {}), "auth": token})


def hook_call(emulator: RunningEmulator, method: str, params: dict[str, Any] | None = None) -> httpx.Response:
    """A REST call through the incoming webhook."""
    return emulator.http.post(f"{emulator.webhook_url}{method}", json=params or {})


def assert_error(response: httpx.Response, status: int, code: str, text: str) -> None:
    """The response is exactly the portal's error body with this status."""
    assert response.status_code == status, response.text
    assert response.json() == {"error": code, "error_description": text}
