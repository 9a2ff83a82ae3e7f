"""Fixtures for the client tests: the emulator's limits restored, a clock that moves the portal's."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from typing import Any

import pytest

from b24kit.client import AsyncClient, Limits, PortalConfig, Retry, WebhookAuth
from b24kit.testing import RunningEmulator


class EmulatorClock:
    """Real time plus an offset; ``sleep`` moves this clock *and* the emulator's forward at once.

    So a client that waits ten minutes for ``operating_reset_at`` finishes in milliseconds, and
    the test can read how long it chose to wait from ``slept``.
    """

    def __init__(self, emulator: RunningEmulator) -> None:
        self.emulator = emulator
        self.offset = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    def time(self) -> float:
        return time.time() + self.offset

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.offset += seconds
        self.emulator.admin("clock", {"advance_seconds": seconds})
        await asyncio.sleep(0)


@pytest.fixture
def emulator(b24_emulator: RunningEmulator) -> Iterator[RunningEmulator]:
    """The shared emulator; its limits are put back to the defaults afterwards."""
    yield b24_emulator
    b24_emulator.admin(
        "limits", {"rate_limit": "off", "operating_limit": 480.0, "operating_cost": {}, "reset_usage": True}
    )
    b24_emulator.admin("faults", method="DELETE")


@pytest.fixture
def clock(emulator: RunningEmulator) -> EmulatorClock:
    return EmulatorClock(emulator)


def config(emulator: RunningEmulator, limits: Limits | str = "cloud", **kwargs: Any) -> PortalConfig:
    chosen = Limits.preset(limits) if isinstance(limits, str) else limits
    return PortalConfig(WebhookAuth(emulator.webhook_url), chosen, **kwargs)


def client(emulator: RunningEmulator, limits: Limits | str = "cloud", **kwargs: Any) -> AsyncClient:
    clock = kwargs.pop("clock", None)
    return AsyncClient(config(emulator, limits, **kwargs), clock=clock)


def fast_retry() -> Retry:
    return Retry(attempts=4, backoff=0.01, max_backoff=0.05)


def seed_deals(emulator: RunningEmulator, count: int, **fields: Any) -> list[int]:
    """``count`` deals created in-process (fast); returns their ids in order."""
    return [
        emulator.portal.call("crm.deal.add", {"fields": {"TITLE": f"Deal {i}", "OPPORTUNITY": i, **fields}})
        for i in range(1, count + 1)
    ]


def stats(emulator: RunningEmulator) -> dict[str, int]:
    return dict(emulator.admin("stats"))


def http_calls(emulator: RunningEmulator, method: str | None = None) -> list[dict[str, Any]]:
    """REST calls the emulator received over HTTP (batch sub-commands are ``via == "batch"``)."""
    path = f"calls?method={method}" if method else "calls"
    return [c for c in emulator.admin(path) if c["via"] == "http"]


def run(coro: Any) -> Any:
    return asyncio.run(coro)


@contextlib.contextmanager
def plain_loop() -> Iterator[None]:
    """An event loop for fast-bitrix24's sync ``Bitrix``, closed afterwards (it never closes its own)."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        yield
    finally:
        loop.close()
        asyncio.set_event_loop(None)
