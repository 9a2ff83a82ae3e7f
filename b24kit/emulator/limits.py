"""The portal's two limits: the request leaky bucket and the per-method operating time.

Leaky bucket (docs: limits.md): every HTTP request adds one to a counter that drains at ``rate``
per second; a request that would take the counter past ``burst`` is refused with 503
``QUERY_LIMIT_EXCEEDED`` (a refused request does not count). A batch is one request.

Operating time: the execution time of each method, per caller, is summed in ten one-minute
buckets. Once the sum passes ``operating_limit`` the *next* call of that method is refused with
429 ``OPERATION_TIME_LIMIT`` until the oldest bucket leaves the ten-minute window
(``operating_reset_at``). The outer ``batch`` call is not accounted; each of its commands
counts against its own method (docs: limits.md).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from .clock import Clock
from .errors import RestError

WINDOW_SECONDS = 600
BUCKET_SECONDS = 60

PRESETS: dict[str, tuple[float, float] | None] = {
    "cloud": (50, 2.0),
    "enterprise": (250, 5.0),
    "off": None,
}


class LeakyBucket:
    """A counter of ``burst`` capacity draining continuously at ``rate`` per second."""

    def __init__(self, burst: float, rate: float, clock: Clock) -> None:
        self.burst = burst
        self.rate = rate
        self.clock = clock
        self.level = 0.0
        self._last = clock.time()

    def _drain(self) -> None:
        now = self.clock.time()
        self.level = max(0.0, self.level - max(0.0, now - self._last) * self.rate)
        self._last = now

    def hit(self) -> None:
        self._drain()
        if self.level + 1 > self.burst + 1e-9:
            raise RestError(503, "QUERY_LIMIT_EXCEEDED", "Too many requests")
        self.level += 1

    def headroom(self) -> float:
        self._drain()
        return self.burst - self.level


@dataclass
class _MethodUsage:
    """Up to ten one-minute buckets of ``(start second, seconds used)``, oldest first."""

    buckets: deque[tuple[int, float]] = field(default_factory=deque)
    used: float = 0.0  # the sum over ``buckets``

    def expire(self, now: float) -> None:
        while self.buckets and self.buckets[0][0] + WINDOW_SECONDS <= now:
            self.used -= self.buckets.popleft()[1]
        if not self.buckets:
            self.used = 0.0

    def total(self) -> float:
        return self.used

    def add(self, now: float, seconds: float) -> None:
        self.used += seconds
        if self.buckets and now - self.buckets[-1][0] < BUCKET_SECONDS:
            start, used = self.buckets[-1]
            self.buckets[-1] = (start, used + seconds)
        else:
            self.buckets.append((int(now), seconds))

    def reset_at(self, now: float) -> int:
        """When the oldest bucket leaves the window: its first call plus ten minutes."""
        start = self.buckets[0][0] if self.buckets else int(now)
        return start + WINDOW_SECONDS


class OperatingBudget:
    """Per (caller, method) execution-time accounting.

    ``costs`` (``POST /_emulator/limits {"operating_cost": {...}}``) replaces the measured time
    of a method with a fixed number of seconds, which makes the limit reachable in a test.
    """

    def __init__(self, clock: Clock, limit: float = 480.0) -> None:
        self.clock = clock
        self.limit = limit
        self.costs: dict[str, float] = {}
        self._usage: dict[tuple[str, str], _MethodUsage] = {}

    def check(self, caller_key: str, method: str) -> None:
        """Refuse the call when the method's accumulated time is already over the limit."""
        usage = self._usage.get((caller_key, method))
        if usage is None:
            return
        usage.expire(self.clock.time())
        if usage.total() > self.limit:
            raise RestError(429, "OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit.")

    def record(
        self, caller_key: str, method: str, seconds: float, now: float | None = None
    ) -> tuple[float, int]:
        """Account a call; returns ``(operating, operating_reset_at)`` for the ``time`` block."""
        cost = self.costs.get(method, seconds)
        usage = self._usage.setdefault((caller_key, method), _MethodUsage())
        now = self.clock.time() if now is None else now
        usage.expire(now)
        usage.add(now, cost)
        return usage.total(), usage.reset_at(now)

    def reset_at(self, caller_key: str, method: str, now: float) -> int:
        usage = self._usage.get((caller_key, method))
        if usage is None:
            return int(now) + WINDOW_SECONDS
        usage.expire(now)
        return usage.reset_at(now)

    def reset(self) -> None:
        self._usage.clear()
