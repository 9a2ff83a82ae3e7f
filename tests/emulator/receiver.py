"""A tiny HTTP server that records the form POSTs the emulator sends out (events)."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl


class Receiver:
    """Collects every POST as ``{"path", "content_type", "form": {flat key: value}}``."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        received = self.posts

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                received.append(
                    {
                        "path": self.path,
                        "content_type": self.headers.get("Content-Type"),
                        "form": dict(parse_qsl(raw, keep_blank_values=True)),
                    }
                )
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/handler"

    def events(self, name: str, timeout: float = 5.0, count: int = 1) -> list[dict[str, str]]:
        """The forms of the ``name`` events received, waiting up to ``timeout`` for ``count``."""
        deadline = time.monotonic() + timeout
        while True:
            found = [p["form"] for p in self.posts if p["form"].get("event") == name]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.02)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def bind_app_event(emulator: Any, receiver: Receiver, *names: str, client_id: str = "app.test") -> str:
    """Install a local app and ``event.bind`` each event in ``names`` to ``receiver``; returns its token."""
    answer = emulator.admin("apps", {"client_id": client_id, "client_secret": "s3cret"})
    token = answer["access_token"]
    for name in names:
        response = emulator.http.post(
            f"{emulator.base_url}/rest/event.bind",
            json={"event": name, "handler": receiver.url, "auth": token},
        )
        assert response.json().get("result") is True, response.text
    return str(token)
