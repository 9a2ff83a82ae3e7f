"""What a robot or event rule may use: the portal's client, durable timers, a small durable
memory, the job it runs for, the clock."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from b24kit.client import AsyncClient


class Timers(Protocol):
    """Durable delayed actions, kept by the runner's state store across restarts.

    A timer is identified by ``key`` (e.g. ``"deal:42:protection-reminder"``): scheduling the same
    key again moves it, so rules stay idempotent. When it is due, the runner calls the rule or
    robot named by ``action`` with ``payload``.
    """

    async def schedule(self, key: str, due: datetime, action: str, payload: dict[str, Any]) -> None: ...

    async def cancel(self, key: str) -> bool: ...


class Memory(Protocol):
    """Small notes a rule keeps between its runs, per portal (the runner keeps them in its state
    store, so they survive restarts and retries): what it last told someone, say. Keys up to
    200 characters; values are text (JSON if need be)."""

    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str) -> None: ...

    async def delete(self, key: str) -> None: ...


class LocalMemory:
    """:class:`Memory` in a dict: for a context built outside the runner (tests, one-off runs)."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    async def get(self, key: str) -> str | None:
        return self.values.get(key)

    async def set(self, key: str, value: str) -> None:
        self.values[key] = value

    async def delete(self, key: str) -> None:
        self.values.pop(key, None)


@dataclass(frozen=True)
class JobInfo:
    """The job a handler runs for: its name, the folder of its job file (relative paths in the
    job's settings are relative to it) and the time zone of its cron trigger, if it has one."""

    name: str
    folder: Path
    timezone: str | None = None

    def path(self, value: str | Path) -> Path:
        """``value`` as a path: an absolute one as it is, a relative one under :attr:`folder` (as
        the job file's ``sync`` and ``input`` paths are read)."""
        return (self.folder / value).resolve()

    def today(self, now: datetime) -> date:
        """The date at ``now`` in the job's time zone (UTC without one)."""
        return now.astimezone(ZoneInfo(self.timezone) if self.timezone else UTC).date()


@dataclass
class RuleContext:
    """Handed to every handler; the runner builds one per job."""

    portal: str  # the configured portal's name
    client: AsyncClient  # that portal's client
    timers: Timers
    portal_url: str = ""  # https://example.bitrix24.ru, for links in notifications
    language: str = "ru"  # for the default notification texts (ru and en are shipped)
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("b24kit.automation"))
    memory: Memory = field(default_factory=LocalMemory)  # the runner's: durable, per portal
    job: JobInfo | None = None  # the job being run (None: called outside a job)
