"""One portal's request engine: pacing, auth, retries and operating-time bookkeeping per request."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from b24kit.errors import (
    ApiError,
    AuthError,
    OperationTimeLimit,
    QueryLimitExceeded,
    ServerError,
    TokenExpired,
    TransportError,
)

from . import _batch
from ._auth import OAuthAuth, Tokens
from ._batch import BatchResult, Chunk
from ._clock import Clock, SystemClock
from ._config import PortalConfig
from ._errors import refused
from ._limits import LeakyBucket, OperatingGate
from ._log import SECRETS, install
from ._transport import Transport

log = logging.getLogger("b24kit.client")
install()


@dataclass(slots=True)
class Stats:
    """What one client has done: HTTP requests sent and how the portal answered."""

    requests: int = 0
    retries: int = 0
    query_limit_hits: int = 0
    operating_limit_hits: int = 0
    operating_waits: int = 0
    token_refreshes: int = 0
    waited_seconds: float = 0.0


class _Expired(Exception):
    """``expired_token`` for the token a request carried (the refresh compares it)."""

    def __init__(self, token: str | None, error: TokenExpired) -> None:
        super().__init__(str(error))
        self.token = token
        self.error = error


class TokenKeeper:
    """The current OAuth tokens; refreshes them exactly once however many calls saw them expire."""

    def __init__(self, auth: OAuthAuth, transport: Transport) -> None:
        self.auth = auth
        self.transport = transport
        self.tokens = auth.initial_tokens()
        self._lock = asyncio.Lock()

    @property
    def access_token(self) -> str:
        return self.tokens.access_token

    async def refresh(self, stale: str) -> bool:
        """Refresh unless another caller already replaced ``stale``; True if a request was made."""
        async with self._lock:
            if self.tokens.access_token != stale:
                return False
            if not self.tokens.refresh_token:
                raise TokenExpired(
                    "the access token expired and there is no refresh token", code="expired_token"
                )
            try:
                answer = await self.transport.get_json(self.auth.token_url, self._grant())
            except AuthError as exc:
                if self._adopt_stored():
                    return False
                exc.method = "oauth/token"
                raise
            self.tokens = Tokens(
                str(answer.get("access_token") or ""),
                str(answer.get("refresh_token") or self.tokens.refresh_token),
                float(answer["expires"]) if isinstance(answer.get("expires"), int | float) else None,
            )
            if self.auth.store is not None:
                self.auth.store.save(self.auth.key, self.tokens)
            return True

    def _grant(self) -> dict[str, str]:
        return {
            "grant_type": "refresh_token",
            "client_id": self.auth.client_id,
            "client_secret": self.auth.client_secret,
            "refresh_token": self.tokens.refresh_token,
        }

    def _adopt_stored(self) -> bool:
        """Another process may have refreshed (refresh tokens are single-use): take its tokens."""
        stored = self.auth.store.load(self.auth.key) if self.auth.store is not None else None
        if stored is not None and stored.refresh_token != self.tokens.refresh_token:
            self.tokens = stored
            return True
        return False


class Engine:
    """Sends requests to one portal within its limits; the client's methods are built on it."""

    def __init__(self, config: PortalConfig, clock: Clock | None = None) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        self.transport = Transport(
            config.url,
            timeout=config.timeout,
            connect_timeout=config.connect_timeout,
            verify_tls=config.verify_tls,
        )
        limits = config.limits
        self.bucket = (
            None
            if limits.burst is None
            else LeakyBucket(limits.burst, limits.rate, self.clock, limits.margin)
        )
        self.gate = OperatingGate(limits, self.clock)
        self.tokens = TokenKeeper(config.auth, self.transport) if isinstance(config.auth, OAuthAuth) else None
        self.stats = Stats()
        self._slots = asyncio.Semaphore(limits.concurrency)

    async def send(
        self, method: str, params: Mapping[str, Any], *, repeatable: bool, inner: Sequence[str] = ()
    ) -> dict[str, Any]:
        """One REST request, paced and retried as the policy allows; the decoded answer."""
        method = method.strip().lower()
        failures = operating = 0
        refreshed = False
        while True:
            started = self.clock.monotonic()
            try:
                body = await self._attempt(method, params, [method, *inner])
            except _Expired as expired:
                if self.tokens is None or refreshed:
                    raise expired.error from None
                refreshed = True
                if await self.tokens.refresh(expired.token or ""):
                    self.stats.token_refreshes += 1
                continue
            except OperationTimeLimit as exc:
                operating += 1
                self.stats.operating_limit_hits += 1
                wait = self.gate.refused(method, exc.reset_at)
                if exc.reset_at is None:
                    exc.reset_at = self.gate.resets.get(method)
                if (
                    operating > self.config.retry.operating_waits
                    or wait > self.config.limits.max_operating_wait
                ):
                    raise
                log.info("%s: operating time limit; waiting %.1fs for operating_reset_at", method, wait)
                continue
            except (QueryLimitExceeded, ServerError, TransportError) as exc:
                failures += 1
                if isinstance(exc, QueryLimitExceeded):
                    self.stats.query_limit_hits += 1
                    if self.bucket is not None:
                        self.bucket.saturate()
                if not self._may_retry(exc, repeatable, failures):
                    raise
                delay = self.config.retry.delay(failures)
                log.info("%s: %s; retry %d in %.2fs", method, exc, failures, delay)
                self.stats.retries += 1
                await self._sleep(delay)
                continue
            self._observe(method, params, body, started)
            return body

    def _may_retry(self, exc: ApiError | TransportError, repeatable: bool, failures: int) -> bool:
        if failures >= self.config.retry.attempts:
            return False
        if isinstance(exc, ApiError) and refused(exc):
            return True
        return repeatable or not exc.maybe_applied

    async def _attempt(self, method: str, params: Mapping[str, Any], gated: list[str]) -> dict[str, Any]:
        wait = self.gate.delay(gated)
        if wait > 0:
            self.stats.operating_waits += 1
            await self._sleep(wait)
        async with self._slots:
            if self.bucket is not None:
                await self._sleep(self.bucket.reserve())
            token = self.tokens.access_token if self.tokens is not None else None
            self.stats.requests += 1
            connector = self.config.auth_connector
            if connector and "auth_connector" not in params:
                params = {**params, "auth_connector": connector}
            try:
                return await self.transport.post(method, params, token)
            except TokenExpired as exc:
                raise _Expired(token, exc) from None

    async def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.stats.waited_seconds += seconds
            await self.clock.sleep(seconds)

    def _observe(
        self, method: str, params: Mapping[str, Any], body: Mapping[str, Any], started: float
    ) -> None:
        timing = body.get("time") if isinstance(body.get("time"), dict) else {}
        assert isinstance(timing, dict)
        self.gate.observe(method, timing)
        if method == "batch":
            self._observe_commands(params, body.get("result"))
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "%s%s: %.3fs, operating %s",
                method,
                _batch_summary(params) if method == "batch" else "",
                self.clock.monotonic() - started,
                timing.get("operating", "n/a"),
            )

    def _observe_commands(self, params: Mapping[str, Any], result: Any) -> None:
        commands = params.get("cmd")
        times = _batch_times(result)
        if not isinstance(commands, Mapping):
            return
        for label, timing in times.items():
            text = commands.get(label)
            if isinstance(text, str) and isinstance(timing, dict):
                self.gate.observe(text.split("?", 1)[0].lower(), timing)

    async def run_chunk(self, chunk: Chunk, *, halt: bool = False, resend: bool = True) -> BatchResult:
        """One ``batch`` request for up to 50 commands; commands the portal refused for its
        limits (429/503 inside the batch: not run) are sent again after the wait, unless
        ``resend`` is false (chained commands, whose caller re-plans instead)."""
        out = BatchResult()
        todo: Chunk | None = chunk
        rounds = 0
        while todo is not None:
            rounds += 1
            try:
                body = await self.send(
                    "batch", todo.payload(halt), repeatable=todo.safe_to_repeat(), inner=todo.methods()
                )
            except (ApiError, TransportError) as exc:
                out.merge(_batch.failed_chunk(todo, exc))
                return out
            part = _batch.parse(todo, body.get("result"))
            again = self._refused_commands(todo, part)
            if again and resend and rounds < self.config.retry.attempts:
                for label in again:
                    del part.errors[label]
                todo = Chunk(tuple(item for item in todo.items if item[0] in again))
            else:
                todo = None
            out.merge(part)
        return out

    def _refused_commands(self, chunk: Chunk, part: BatchResult) -> set[str]:
        again: set[str] = set()
        for label, _, cmd in chunk.items:
            err = part.errors.get(label)
            if not isinstance(err, ApiError) or not refused(err):
                continue
            again.add(label)
            if isinstance(err, OperationTimeLimit):
                self.stats.operating_limit_hits += 1
                self.gate.refused(cmd.method.strip().lower(), err.reset_at)
            elif self.bucket is not None:
                self.stats.query_limit_hits += 1
                self.bucket.saturate()
        return again

    async def close(self) -> None:
        await self.transport.close()

    def mask(self, text: str) -> str:
        return SECRETS.mask(text)


def _batch_times(result: Any) -> dict[str, Any]:
    if not isinstance(result, Mapping):
        return {}
    times = result.get("result_time")
    if isinstance(times, list):
        return {str(i): t for i, t in enumerate(times)}
    return dict(times) if isinstance(times, Mapping) else {}


def _batch_summary(params: Mapping[str, Any]) -> str:
    commands = params.get("cmd")
    if not isinstance(commands, Mapping):
        return ""
    counts: dict[str, int] = {}
    for text in commands.values():
        name = str(text).split("?", 1)[0]
        counts[name] = counts.get(name, 0) + 1
    return "[" + ", ".join(f"{n} x{c}" for n, c in counts.items()) + "]"
