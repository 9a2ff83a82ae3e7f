"""Durable timers: ``ctx.timers.schedule(key, due, action, payload)`` keeps a row in the state
store; when it is due, a loop turns it into a task (in the same transaction it deletes the
timer), so a timer fires once, after any number of restarts, or not at all if cancelled."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from .queue import StoreQueue

log = logging.getLogger("b24kit.jobs")


class StoreTimers:
    """:class:`b24kit.automation.Timers` for one portal, on the runner's store."""

    def __init__(self, queue: StoreQueue, portal: str, on_change: Callable[[], None] = lambda: None) -> None:
        self.queue = queue
        self.portal = portal
        self.on_change = on_change

    async def schedule(self, key: str, due: datetime, action: str, payload: dict[str, Any]) -> None:
        """Set the timer ``key`` (scheduling an existing key moves it)."""
        if due.tzinfo is None:
            raise ValueError("a timer's due time must be timezone-aware (datetime.now(UTC) + ...)")
        store = self.queue.store
        await self.queue.run(store.schedule_timer, self.portal, key, due.timestamp(), action, payload)
        self.on_change()

    async def cancel(self, key: str) -> bool:
        """Remove the timer; ``False`` when there was none (already fired or never set)."""
        done = await self.queue.run(self.queue.store.cancel_timer, self.portal, key)
        self.on_change()
        return done


class TimerLoop:
    """Moves due timers into the inbox; sleeps until the next one (or a change)."""

    def __init__(self, queue: StoreQueue, *, max_sleep: float = 30.0) -> None:
        self.queue = queue
        self.max_sleep = max_sleep
        self._changed = asyncio.Event()

    def changed(self) -> None:
        self._changed.set()

    async def run(self) -> None:
        while True:
            try:
                fired = await self.queue.run(self.queue.store.fire_timers, time.time())
                if fired:
                    self.queue.wake()
                    continue
                upcoming = await self.queue.run(self.queue.store.next_due)
            except Exception:
                log.exception("timers: the state store failed; trying again shortly")
                upcoming = None
            pause = (
                self.max_sleep if upcoming is None else min(self.max_sleep, max(0.0, upcoming - time.time()))
            )
            try:
                await asyncio.wait_for(self._changed.wait(), pause)
            except TimeoutError:
                pass
            self._changed.clear()
