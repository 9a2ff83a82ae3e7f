"""Time for the client: a monotonic clock for waiting, wall time for the portal's clock skew."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    """What the limiter and the retry loop need from time; tests pass a fake."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (deadlines are kept on it)."""
        ...

    def time(self) -> float:
        """Unix time (compared with the portal's ``time.finish`` to learn the skew)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds``."""
        ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))
