"""Sends what the portal posts out (events, robot calls) as PHP-style form bodies, no retries."""

from __future__ import annotations

import asyncio
import contextlib
import time

import httpx

from .portal import Delivery, Portal
from .wire import http_build_query

WORKERS = 4
TIMEOUT = 10.0
USER_AGENT = "Bitrix24 Webhook Engine"


class Sender:
    """Background tasks that drain ``portal.outbox`` while the HTTP app runs."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._client: httpx.AsyncClient | None = None
        self.in_flight = 0

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._client = httpx.AsyncClient(timeout=TIMEOUT, verify=False)  # local handlers, self-signed too

        def wake() -> None:
            loop.call_soon_threadsafe(self._wake.set)

        self.portal.notify_outbox = wake
        self.portal.sender = self  # type: ignore[attr-defined]
        self._tasks = [asyncio.create_task(self._run()) for _ in range(WORKERS)]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._client is not None:
            await self._client.aclose()
        self.portal.notify_outbox = lambda: None

    async def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything queued has been sent; ``False`` on timeout."""
        deadline = time.monotonic() + timeout
        while self.portal.outbox or self.in_flight:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    async def _run(self) -> None:
        while True:
            if not self.portal.outbox:
                self._wake.clear()
                await self._wake.wait()
                continue
            item = self.portal.outbox.popleft()
            self.in_flight += 1
            try:
                await self._send(item)
            finally:
                self.in_flight -= 1

    async def _send(self, item: Delivery) -> None:
        assert self._client is not None
        record = {
            "url": item.url,
            "kind": item.kind,
            "body": item.body,
            "ts": time.time(),
            **item.meta,
        }
        try:
            response = await self._client.post(
                item.url,
                content=http_build_query(item.body).encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded", "User-Agent": USER_AGENT},
            )
            record["status"] = response.status_code
        except httpx.HTTPError as exc:
            record["status"] = None
            record["error"] = f"{type(exc).__name__}: {exc}"
        self.portal.deliveries.append(record)
