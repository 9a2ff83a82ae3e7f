"""Fixtures for the rule tests: a RuleContext on the emulated portal, and call counting."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest

from b24kit.automation import JobInfo, LocalMemory, RuleContext
from b24kit.client import AsyncClient
from b24kit.testing import RunningEmulator

T = TypeVar("T")
WRITE_VERBS = ("add", "update", "delete", "set", "send", "complete")


class MemoryTimers:
    """The Timers protocol kept in a dict (the runner keeps them in its state store)."""

    def __init__(self) -> None:
        self.due: dict[str, tuple[datetime, str, dict[str, Any]]] = {}

    async def schedule(self, key: str, due: datetime, action: str, payload: dict[str, Any]) -> None:
        self.due[key] = (due, action, payload)

    async def cancel(self, key: str) -> bool:
        return self.due.pop(key, None) is not None


class Portal:
    """The emulator plus a way to run handlers with a RuleContext built for it."""

    def __init__(self, emulator: RunningEmulator) -> None:
        self.emulator = emulator
        self.timers = MemoryTimers()
        self.language = "en"
        self.now: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.memory = LocalMemory()  # kept across runs, as the runner's state store keeps it
        self.job: JobInfo | None = None

    def run(self, handler: Callable[[RuleContext], Awaitable[T]]) -> T:
        """Run ``handler(ctx)`` on a fresh loop with a client for the emulator's webhook."""

        async def main() -> T:
            async with AsyncClient.from_url(self.emulator.webhook_url, limits="off") as client:
                ctx = RuleContext(
                    portal="emulator",
                    client=client,
                    timers=self.timers,
                    portal_url="https://example.bitrix24.ru",
                    language=self.language,
                    now=self.now,
                    memory=self.memory,
                    job=self.job,
                )
                return await handler(ctx)

        return asyncio.run(main())

    def rest(self, method: str, params: dict[str, Any] | None = None) -> Any:
        body = self.emulator.rest(method, params)
        assert "error" not in body, body
        return body["result"]

    def user_field(self, entity: str, name: str, label: str) -> None:
        """A string user field ``UF_CRM_<name>`` on ``entity`` with an English form label."""
        fields = {"FIELD_NAME": name, "USER_TYPE_ID": "string", "EDIT_FORM_LABEL": {"en": label}}
        self.rest(f"crm.{entity}.userfield.add", {"fields": fields})

    def add_user(self, name: str, last_name: str = "S") -> int:
        fields = {
            "NAME": name,
            "LAST_NAME": last_name,
            "EMAIL": f"{name.lower()}@example.com",
            "UF_DEPARTMENT": [1],
        }
        user_id: int = self.rest("user.add", fields)
        return user_id

    def calls(self) -> list[dict[str, Any]]:
        return list(self.emulator.admin("calls"))

    def mark(self) -> int:
        """A position in the call log; :meth:`writes_since` counts what came after it."""
        return len(self.calls())

    def calls_since(self, mark: int) -> list[dict[str, Any]]:
        return self.calls()[mark:]

    def writes_since(self, mark: int) -> list[str]:
        return [
            c["method"]
            for c in self.calls_since(mark)
            if c["method"] != "batch" and c["method"].rsplit(".", 1)[-1] in WRITE_VERBS
        ]

    def requests_since(self, mark: int) -> int:
        """HTTP requests (a batch is one) after ``mark``."""
        return sum(1 for c in self.calls_since(mark) if c.get("via") != "batch")


@pytest.fixture
def portal(b24_emulator: RunningEmulator) -> Portal:
    return Portal(b24_emulator)
