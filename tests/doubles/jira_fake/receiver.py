"""A webhook receiver on a real socket: records every POST and can fail on purpose (retry tests)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .server import ThreadedServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver:
    """``url`` takes POSTs on any path; ``received`` lists them; ``fail_next(n)`` answers 500 n times."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self._failures: list[int] = []
        self._arrived = threading.Condition()
        app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["POST"])])
        self._server = ThreadedServer(app)
        self.url = self._server.url

    async def _handle(self, request: Request) -> Response:
        body = await request.body()
        with self._arrived:
            self.received.append(
                Received(request.url.path, {k.lower(): v for k, v in request.headers.items()}, body)
            )
            status = self._failures.pop(0) if self._failures else 200
            self._arrived.notify_all()
        return Response(status_code=status)

    def fail_next(self, count: int, status: int = 500) -> None:
        with self._arrived:
            self._failures.extend([status] * count)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Block until ``count`` requests arrived in all; return them."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"{len(self.received)} of {count} webhook requests arrived in {timeout}s"
                    )
                self._arrived.wait(left)
            return list(self.received)

    def start(self) -> WebhookReceiver:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
