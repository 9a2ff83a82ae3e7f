"""One emulated portal: its state, clock, limits, faults, call log and outgoing deliveries."""

from __future__ import annotations

import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .clock import Clock, parse_offset
from .errors import RestError, access_denied, method_not_found
from .faults import Faults
from .limits import PRESETS, LeakyBucket, OperatingBudget
from .query import QueryCache
from .registry import METHODS, Caller, Ctx, Listing, Params
from .store import Store, Table

CALL_LOG_SIZE = 20_000


@dataclass
class Settings:
    """What ``b24kit emulator serve`` configures."""

    webhooks: dict[int, str] = field(default_factory=lambda: {1: "secret"})
    rate_limit: str = "off"
    timezone: str = "+03:00"
    operating_limit: float = 480.0
    token_ttl: int = 3600
    db_path: str | None = None
    seed: str | None = None
    language: str = "ru"


@dataclass
class Outcome:
    """A successful method result with the envelope fields around it."""

    result: Any
    total: int | None
    next: int | None
    time: dict[str, Any]


@dataclass
class Delivery:
    """A POST the portal sends out: an event to a handler, or a robot call."""

    url: str
    body: dict[str, Any]
    kind: str
    meta: dict[str, Any] = field(default_factory=dict)


class Portal:
    """State plus the dispatch of REST calls; no HTTP here (see ``app.py``)."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.clock = Clock(parse_offset(self.settings.timezone))
        self.store = Store(self.settings.db_path)
        self.cache = QueryCache()
        self.faults = Faults()
        self.operating = OperatingBudget(self.clock, self.settings.operating_limit)
        self.bucket: LeakyBucket | None = None
        self._configured_rate_limit = self.settings.rate_limit
        self.generation = 0  # counts resets
        self.set_rate_limit(self.settings.rate_limit)
        self.calls: deque[dict[str, Any]] = deque(maxlen=CALL_LOG_SIZE)
        self.stats: dict[str, int] = {"requests": 0}
        self.outbox: deque[Delivery] = deque()
        self.deliveries: deque[dict[str, Any]] = deque(maxlen=CALL_LOG_SIZE)
        self.notify_outbox: Callable[[], None] = lambda: None
        self.base_url = "http://127.0.0.1"
        self.memo: dict[str, Any] = {}
        self._iso_second = -1
        self._iso_text = ""
        self._restore_clock()
        from . import seed

        if self.store.is_empty:
            seed.fresh_portal(self)
            if self.settings.seed == "demo":
                seed.demo_data(self)

    # -- identity -------------------------------------------------------------------------
    @property
    def domain(self) -> str:
        return self.base_url.split("://", 1)[-1].rstrip("/")

    def meta(self) -> dict[str, Any]:
        row = self.table("portal").get(1)
        if row is None:
            row = {"member_id": secrets.token_hex(16), "clock_offset": 0.0}
            self.table("portal").insert(row, 1)
        return row

    @property
    def member_id(self) -> str:
        return str(self.meta()["member_id"])

    def table(self, name: str) -> Table:
        return self.store.table(name)

    def is_admin(self, user_id: int) -> bool:
        user = self.table("users").get(user_id)
        return bool(user and user.get("IS_ADMIN"))

    # -- limits and clock -----------------------------------------------------------------
    def set_rate_limit(self, mode: str) -> None:
        if mode not in PRESETS:
            raise ValueError(f"rate limit must be one of {', '.join(PRESETS)}")
        preset = PRESETS[mode]
        self.settings.rate_limit = mode
        self.bucket = None if preset is None else LeakyBucket(preset[0], preset[1], self.clock)

    def advance_clock(self, seconds: float) -> None:
        self.clock.advance(seconds)
        meta = self.meta()
        meta["clock_offset"] = self.clock.offset
        self.table("portal").save(1, meta)

    def _restore_clock(self) -> None:
        row = self.table("portal").get(1)
        if row is not None:
            self.clock.offset = float(row.get("clock_offset", 0.0))

    def reset(self) -> None:
        """Back to a fresh portal: the configured settings and limits, no data, no faults."""
        member_id = self.member_id
        self.generation += 1
        self.store.reset()
        self.memo.clear()
        self.cache = QueryCache()
        self.faults.clear()
        self.operating = OperatingBudget(self.clock, self.settings.operating_limit)
        self.calls.clear()
        self.deliveries.clear()
        self.outbox.clear()
        self.stats = {"requests": 0}
        self.clock.offset = 0.0
        self.clock.frozen = None
        self.set_rate_limit(self._configured_rate_limit)
        self.table("portal").insert({"member_id": member_id, "clock_offset": 0.0}, 1)
        from . import seed

        seed.fresh_portal(self)
        if self.settings.seed == "demo":
            seed.demo_data(self)

    # -- authentication -------------------------------------------------------------------
    def webhook_caller(self, user_id: str, secret: str) -> Caller:
        expected = (
            self.settings.webhooks.get(int(user_id)) if user_id.isascii() and user_id.isdecimal() else None
        )
        if expected is None or not secrets.compare_digest(expected, secret):
            raise RestError(401, "NO_AUTH_FOUND", "Wrong authorization data")
        return Caller("webhook", int(user_id))

    def token_caller(self, token: str, auth_connector: str | None) -> Caller:
        from . import oauth

        return oauth.caller_for_token(self, token, auth_connector)

    def check_bucket(self) -> None:
        if self.bucket is not None:
            self.bucket.hit()

    # -- dispatch -------------------------------------------------------------------------
    def execute(self, caller: Caller, name: str, raw: dict[str, Any], *, via: str = "http") -> Outcome:
        """Run one method for ``caller``; raise :class:`RestError` on failure."""
        name = name.lower()
        entry: dict[str, Any] = {"method": name, "via": via, "ts": time.time(), "params": raw}
        self.calls.append(entry)
        try:
            outcome = self._execute(caller, name, raw)
        except RestError as exc:
            entry["status"] = exc.status
            entry["error"] = exc.code
            raise
        entry["status"] = 200
        return outcome

    def _execute(self, caller: Caller, name: str, raw: dict[str, Any]) -> Outcome:
        started = self.clock.time()
        began = time.perf_counter()
        spec = METHODS.get(name)
        if spec is None:
            raise method_not_found()
        if spec.app_only and not caller.is_app:
            raise access_denied("Access denied! Application context required")
        if self.faults.pending:
            fault = self.faults.take(name)
            if fault is not None:
                raise fault.to_error()
        # the outer batch is not accounted; each of its commands counts against its own method
        accounted = name != "batch"
        caller_key = f"{caller.kind}:{caller.app_id or caller.user_id}"
        if accounted:
            self.operating.check(caller_key, name)
        processing_start = time.perf_counter()
        try:
            value = spec.handler(Ctx(self, caller, name), Params(raw))
        finally:
            processing = time.perf_counter() - processing_start
            if accounted:
                usage = self.operating.record(caller_key, name, processing, started)
            else:
                usage = (0.0, self.operating.reset_at(caller_key, name, started))
        total = nxt = None
        if isinstance(value, Listing):
            value, total, nxt = value.result, value.total, value.next
        duration = time.perf_counter() - began
        return Outcome(value, total, nxt, self.time_block(started, duration, processing, *usage))

    def time_block(
        self, started: float, duration: float, processing: float, operating: float, reset_at: int
    ) -> dict[str, Any]:
        """The envelope's ``time``: timestamps on the portal clock, measured durations."""
        finished = started + duration
        return {
            "start": started,
            "finish": finished,
            "duration": duration,
            "processing": processing,
            "date_start": self._iso(started),
            "date_finish": self._iso(finished),
            "operating_reset_at": reset_at,
            "operating": round(operating, 6),
        }

    def _iso(self, ts: float) -> str:
        """``clock.iso(ts)``, remembered for the current second (two per call otherwise)."""
        second = int(ts // 1)
        if self._iso_second != second:
            self._iso_second = second
            self._iso_text = self.clock.iso(second)
        return self._iso_text

    def count_status(self, status: int) -> None:
        key = f"status_{status}"
        self.stats[key] = self.stats.get(key, 0) + 1

    # -- outgoing deliveries --------------------------------------------------------------
    def deliver(self, delivery: Delivery) -> None:
        self.outbox.append(delivery)
        self.notify_outbox()

    def ctx(self, user_id: int = 1) -> Ctx:
        """A context for internal calls (seeding, admin actions) as ``user_id``."""
        return Ctx(self, Caller("webhook", user_id), "internal")

    def call(self, name: str, params: dict[str, Any] | None = None, user_id: int = 1) -> Any:
        """Run a method in-process (seed data, admin API, tests); returns the bare result."""
        spec = METHODS.get(name.lower())
        if spec is None:
            raise method_not_found()
        value = spec.handler(Ctx(self, Caller("webhook", user_id), name.lower()), Params(params))
        return value.result if isinstance(value, Listing) else value
