"""The portal's limits on the client side: a leaky bucket that reserves before sending, and a
per-method operating-time gate fed from ``time.operating`` and ``operating_reset_at``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ._clock import Clock

# docs: limits.md -- cloud plans drain 2 requests/s with a burst of 50, Enterprise 5/s and 250;
# the operating budget is 480 s of execution per method per 10 minutes.
_PRESET_NAMES = ("cloud", "enterprise", "off")


@dataclass(frozen=True, slots=True)
class Limits:
    """How hard the client may push one portal.

    ``burst``/``rate``: the leaky bucket (``None`` burst: no bucket); ``margin`` slots of the
    burst stay unused so network jitter never tips the portal's own bucket over.
    ``operating_limit``/``operating_headroom``: a method whose reported ``time.operating``
    reaches ``limit - headroom`` waits for its ``operating_reset_at`` (``None``: only react to
    429). ``concurrency``: requests in flight at once. ``max_operating_wait``: the longest
    wait accepted for ``OPERATION_TIME_LIMIT`` before the error is raised instead.
    """

    burst: int | None = 50
    rate: float = 2.0
    margin: int = 2
    operating_limit: float | None = 480.0
    operating_headroom: float = 10.0
    concurrency: int = 8
    max_operating_wait: float = 900.0
    fallback_operating_wait: float = 60.0

    @classmethod
    def preset(cls, name: str) -> Limits:
        """``cloud`` (50, 2/s), ``enterprise`` (250, 5/s) or ``off`` (no client-side pacing)."""
        key = name.strip().lower()
        if key == "cloud":
            return cls()
        if key == "enterprise":
            return cls(burst=250, rate=5.0)
        if key == "off":
            return cls(burst=None, operating_limit=None, concurrency=16)
        raise ValueError(f"unknown limits preset {name!r}: choose one of {', '.join(_PRESET_NAMES)}")

    def __post_init__(self) -> None:
        if self.burst is not None and (self.burst < 1 or self.rate <= 0):
            raise ValueError("limits: burst must be at least 1 and rate above 0")
        if self.concurrency < 1:
            raise ValueError("limits: concurrency must be at least 1")


class LeakyBucket:
    """Counts requests as the portal does, but *reserves* the slot before the request is sent.

    fast-bitrix24 records a request only when its answer arrives, so concurrent callers all
    see an empty bucket and burst past it; here ``reserve()`` takes the slot synchronously and
    returns how long to wait, so any number of concurrent callers queue at the drain rate.
    """

    def __init__(self, burst: int, rate: float, clock: Clock, margin: int = 0) -> None:
        self.capacity = max(1.0, float(burst - margin))
        self.rate = rate
        self.clock = clock
        self.level = 0.0
        self._at = clock.monotonic()

    def _drain(self) -> float:
        now = self.clock.monotonic()
        self.level = max(0.0, self.level - (now - self._at) * self.rate)
        self._at = now
        return now

    def reserve(self) -> float:
        """Take one slot; returns the seconds to wait before sending."""
        self._drain()
        wait = max(0.0, (self.level + 1 - self.capacity) / self.rate)
        self.level += 1
        return wait

    def saturate(self) -> None:
        """The portal said its bucket is full (503): pace every caller at the drain rate."""
        self._drain()
        self.level = max(self.level, self.capacity)

    def headroom(self) -> float:
        """Requests that could go out right now without waiting."""
        self._drain()
        return max(0.0, self.capacity - self.level)


class OperatingGate:
    """Per-method operating time as the portal reports it, and the waits it implies."""

    def __init__(self, limits: Limits, clock: Clock) -> None:
        self.limits = limits
        self.clock = clock
        self.skew = 0.0  # portal unix time minus local unix time
        self.usage: dict[str, float] = {}
        self.resets: dict[str, float] = {}  # method -> operating_reset_at (portal unix time)
        self._blocked: dict[str, float] = {}  # method -> monotonic deadline

    def delay(self, methods: Iterable[str]) -> float:
        """Seconds until every one of ``methods`` may be called."""
        now = self.clock.monotonic()
        wait = 0.0
        for method in methods:
            until = self._blocked.get(method)
            if until is None:
                continue
            if until <= now:
                del self._blocked[method]
                self.usage.pop(method, None)
            else:
                wait = max(wait, until - now)
        return wait

    def observe(self, method: str, timing: Mapping[str, Any]) -> None:
        """Record a ``time`` block: the method's running operating total and its reset time."""
        finish = timing.get("finish")
        if isinstance(finish, int | float):
            self.skew = float(finish) - self.clock.time()
        operating = timing.get("operating")
        reset_at = timing.get("operating_reset_at")
        if not isinstance(operating, int | float) or not isinstance(reset_at, int | float):
            return  # on-premise portals do not report operating time
        self.usage[method] = float(operating)
        self.resets[method] = float(reset_at)
        limit = self.limits.operating_limit
        if limit is not None and operating >= limit - self.limits.operating_headroom:
            self._block(method, self.until(float(reset_at)))

    def refused(self, method: str, reset_at: float | None) -> float:
        """The portal answered 429 for ``method``: seconds to wait before repeating it."""
        now = self.clock.monotonic()
        known = self.resets.get(method)
        if reset_at is not None:
            wait = self.until(reset_at) - now
        elif known is not None and self.until(known) > now:
            wait = self.until(known) - now
        else:
            wait = self.limits.fallback_operating_wait
        wait = max(wait, 0.5)
        self._block(method, now + wait)
        return wait

    def until(self, portal_time: float) -> float:
        """A portal unix time as a local monotonic deadline (plus one second of slack)."""
        portal_now = self.clock.time() + self.skew
        return self.clock.monotonic() + (portal_time - portal_now) + 1.0

    def _block(self, method: str, until: float) -> None:
        self._blocked[method] = max(self._blocked.get(method, 0.0), until)
