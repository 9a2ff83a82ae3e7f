"""What the runner's parts share: settings, jobs, the queue, clients, the gate, metrics."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from b24kit.automation import RuleContext
from b24kit.config import Settings
from b24kit.errors import (
    AccessDenied,
    AuthError,
    BatchError,
    ConfigError,
    InvalidRequest,
    JobError,
    NotFound,
    Retriable,
    RobotError,
)

from .clients import Clients, TaskClient
from .gate import Gate
from .jobset import JobDef, JobSet
from .memory import StoreMemory
from .metrics import Metrics
from .queue import StoreQueue
from .settings import RetrySettings, RunnerPortal
from .timers import StoreTimers

_DEFAULT_PORTAL = RunnerPortal()  # a portal without a runner.portals entry (never modified)


@dataclass
class Services:
    settings: Settings
    jobs: JobSet
    queue: StoreQueue
    clients: Clients
    gate: Gate
    metrics: Metrics = field(default_factory=Metrics)
    timers_changed: Callable[[], None] = lambda: None
    wake_offline: Callable[[str], None] = lambda portal: None
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    profile_locks: dict[Path, asyncio.Lock] = field(default_factory=dict)

    @property
    def portals(self) -> list[str]:
        return self.gate.portals

    def profile_lock(self, profile: Path) -> asyncio.Lock:
        """The lock a sync profile's runs take, so that no two runs of it overlap in this process
        (two runs finding one new record would both create it). Keyed by the profile's file,
        whichever jobs and portals run it."""
        return self.profile_locks.setdefault(profile.resolve(), asyncio.Lock())

    def portal_settings(self, portal: str) -> RunnerPortal:
        return self.settings.runner.portals.get(portal) or _DEFAULT_PORTAL

    def context(self, portal: str, job: JobDef | None = None) -> tuple[RuleContext, TaskClient]:
        """A fresh context for one task: its own read memo, the portal's timers and memory, and
        ``job``'s name, folder and time zone."""
        client = TaskClient(self.clients.get(portal))
        options = self.portal_settings(portal)
        ctx = RuleContext(
            portal=portal,
            client=client,
            timers=StoreTimers(self.queue, portal, self.timers_changed),
            portal_url=self.gate.portal_url(portal),
            language=options.language,
            now=self.now,
            log=logging.getLogger(f"b24kit.jobs.{portal}"),
            memory=StoreMemory(self.queue, portal),
            job=job.info() if job is not None else None,
        )
        return ctx, client

    def retry_policy(self, job: JobDef | None) -> RetrySettings:
        base = self.settings.runner.retry
        override = job.spec.retry if job is not None else None
        if override is None:
            return base
        return RetrySettings(
            attempts=override.attempts or base.attempts,
            backoff=override.backoff or base.backoff,
            max_backoff=base.max_backoff,
        )


def retriable(exc: BaseException) -> bool:
    """Whether trying again later may succeed: portal limits and outages, network failures,
    refused credentials (a reinstall fixes them), unexpected errors; not bad input or data."""
    if isinstance(exc, Retriable | AuthError):
        return True
    if isinstance(exc, BatchError):
        return any(retriable(e) for e in exc.errors.values())
    return not isinstance(exc, ConfigError | InvalidRequest | NotFound | AccessDenied | RobotError | JobError)
