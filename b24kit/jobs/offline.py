"""Offline events: for portals that cannot reach the runner, poll ``event.offline.get``.

Each round reserves a batch (``clear=0``: the rows get a ``process_id`` and are hidden from other
readers), commits the events to the inbox, and only then clears them with
``event.offline.clear``; rows that are not well-formed events are marked with
``event.offline.error`` (kept on the portal for inspection). A crash between the commit and the
clear leaves a reserved batch on the portal: its ``process_id`` is kept in the state store and
cleared at the next start (the events are in the inbox already, so they are not read twice).
An ``ONOFFLINEEVENT`` notification (bound online, if the portal can reach us) wakes the poller.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from b24kit.automation import PortalEvent

from .keys import event_inbound
from .model import Inbound
from .services import Services

log = logging.getLogger("b24kit.jobs.offline")


class OfflineConsumer:
    """One poller per offline portal."""

    def __init__(self, portal: str, services: Services) -> None:
        self.portal = portal
        self.s = services
        self.options = services.portal_settings(portal).offline
        self._wake = asyncio.Event()
        self.consumed = 0

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        cleared = False
        while True:
            try:
                if not cleared:
                    await self.clear_leftover()
                    cleared = True
                got = await self.consume_once()
            except Exception as exc:  # the portal or network failed: try again at the next poll
                log.warning("offline events of %s: %s", self.portal, exc)
                got = 0
            if got >= self.options.batch:
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), self.options.poll_seconds)
            except TimeoutError:
                pass
            self._wake.clear()

    @property
    def _pending_key(self) -> str:
        return f"offline:{self.portal}:process"

    async def clear_leftover(self) -> None:
        """Clear a batch a crash left reserved (its events were committed before the crash)."""
        store = self.s.queue.store
        process_id = await self.s.queue.run(store.get, self._pending_key)
        if process_id:
            await self.s.clients.get(self.portal).call("event.offline.clear", {"process_id": process_id})
            await self.s.queue.run(store.delete, self._pending_key)

    async def consume_once(self) -> int:
        """One round; returns how many events the portal handed over."""
        client = self.s.clients.get(self.portal)
        answer = await client.call("event.offline.get", {"clear": 0, "limit": self.options.batch})
        rows = answer.get("events") if isinstance(answer, Mapping) else None
        process_id = str(answer.get("process_id") or "") if isinstance(answer, Mapping) else ""
        if not rows or not process_id:
            return 0
        items, good, bad = self._items(rows)
        if items:
            await self.s.queue.submit_many(items)
        store = self.s.queue.store
        await self.s.queue.run(store.set, self._pending_key, process_id)
        if bad:
            await client.call("event.offline.error", {"process_id": process_id, "message_id": bad})
        if good:
            await client.call("event.offline.clear", {"process_id": process_id, "message_id": good})
        await self.s.queue.run(store.delete, self._pending_key)
        self.consumed += len(rows)
        return len(rows)

    def _items(self, rows: list[Any]) -> tuple[list[Inbound], list[str], list[str]]:
        items: list[Inbound] = []
        good: list[str] = []
        bad: list[str] = []
        delay = self.s.settings.runner.debounce_seconds
        for row in rows:
            if not isinstance(row, Mapping) or not row.get("MESSAGE_ID"):
                continue
            message = str(row["MESSAGE_ID"])
            name, data = str(row.get("EVENT_NAME") or "").upper(), row.get("EVENT_DATA")
            if not name or not isinstance(data, Mapping):
                bad.append(message)
                continue
            good.append(message)
            if not self.s.jobs.for_event(self.portal, name):
                continue
            event = PortalEvent(name, dict(data), ts=_ts(row.get("TIMESTAMP_X")))
            items.append(event_inbound(self.portal, event, source="offline", delay=delay))
        return items, good, bad


def _ts(value: Any) -> int:
    try:
        return int(datetime.fromisoformat(str(value)).timestamp())
    except ValueError:
        return 0
