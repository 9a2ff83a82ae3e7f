"""What a robot or event rule may use: the portal's client, durable timers, the clock."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from b24kit.client import AsyncClient


class Timers(Protocol):
    """Durable delayed actions, kept by the runner's state store across restarts.

    A timer is identified by ``key`` (e.g. ``"deal:42:protection-reminder"``): scheduling the same
    key again moves it, so rules stay idempotent. When it is due, the runner calls the rule or
    robot named by ``action`` with ``payload``.
    """

    async def schedule(self, key: str, due: datetime, action: str, payload: dict[str, Any]) -> None: ...

    async def cancel(self, key: str) -> bool: ...


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
