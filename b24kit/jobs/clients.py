"""One portal client per configured portal (built lazily, rebuilt after an install), and the
per-task client handlers get: it remembers single-record reads until the task writes."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import asdict, replace
from typing import Any

from b24kit.client import AsyncClient, BatchResult, Command, Envelope, Page, PortalConfig, Stats, is_read
from b24kit.config import Settings

_MEMO_METHODS = frozenset(
    {"crm.deal.get", "crm.lead.get", "crm.contact.get", "crm.company.get", "crm.item.get"}
)


def offline_connector(settings: Settings, portal: str) -> str | None:
    """The ``auth_connector`` of ``portal``'s offline events (``None`` when they are online)."""
    options = settings.runner.portals.get(portal)
    if options is None or options.events != "offline":
        return None
    return options.auth_connector


class Clients:
    """The runner's portal clients; REST figures survive a client being rebuilt."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._clients: dict[str, AsyncClient] = {}
        self._retired: dict[str, dict[str, float]] = {}

    def config(self, portal: str) -> PortalConfig:
        """The portal's config; waits for an operating-time reset longer than
        ``runner.limit_wait_seconds`` are not slept through by a worker (the task is re-queued).
        On a portal whose events are offline every call carries the ``auth_connector`` the
        events are bound with, so the portal does not queue the runner's own writes back."""
        config = self.settings.portal(portal)
        limits = replace(config.limits, max_operating_wait=self.settings.runner.limit_wait_seconds)
        return replace(config, limits=limits, auth_connector=offline_connector(self.settings, portal))

    def get(self, portal: str) -> AsyncClient:
        client = self._clients.get(portal)
        if client is None:
            client = self._clients[portal] = AsyncClient(self.config(portal))
        return client

    async def reset(self, portal: str) -> None:
        """Drop the portal's client (its tokens changed); the next use builds a new one."""
        client = self._clients.pop(portal, None)
        if client is not None:
            self._retire(portal, client.stats)
            await client.close()

    def stats(self) -> dict[str, dict[str, float]]:
        """Per portal: requests, retries, limit hits and waits, over every client it had."""
        totals = {name: dict(values) for name, values in self._retired.items()}
        for name, client in self._clients.items():
            into = totals.setdefault(name, {})
            for key, value in asdict(client.stats).items():
                into[key] = into.get(key, 0) + value
        return totals

    def _retire(self, portal: str, stats: Stats) -> None:
        into = self._retired.setdefault(portal, {})
        for key, value in asdict(stats).items():
            into[key] = into.get(key, 0) + value

    async def close(self) -> None:
        for portal in list(self._clients):
            await self.reset(portal)


class TaskClient(AsyncClient):
    """The client one task's handlers share. A single-record read (``crm.deal.get`` and the
    like) is answered from memory when the same record was read earlier in the task and nothing
    was written since, so two rules on one event read the deal once.

    It delegates everything to the portal's client (it holds no connection of its own).
    """

    def __init__(self, base: AsyncClient) -> None:  # no super().__init__: nothing of its own to open
        self.config = base.config
        self._base = base
        self._memo: dict[str, Envelope] = {}
        self.reads_saved = 0

    @property
    def stats(self) -> Stats:
        return self._base.stats

    async def request(
        self, method: str, params: Mapping[str, Any] | None = None, *, idempotent: bool | None = None
    ) -> Envelope:
        key = _memo_key(method, params or {})
        if key is not None and key in self._memo:
            self.reads_saved += 1
            return copy.deepcopy(self._memo[key])
        if not is_read(method):
            self._memo.clear()
        answer = await self._base.request(method, params, idempotent=idempotent)
        if key is not None:
            self._memo[key] = copy.deepcopy(answer)
        return answer

    async def batch(
        self, commands: Mapping[str, Command] | Sequence[Command], *, halt: bool = False
    ) -> BatchResult:
        listed = commands.values() if isinstance(commands, Mapping) else commands
        if any(not is_read(c.method) for c in listed):
            self._memo.clear()
        return await self._base.batch(commands, halt=halt)

    async def iter_pages(self, method: str, params: Mapping[str, Any] | None = None) -> AsyncIterator[Page]:
        async for page in self._base.iter_pages(method, params):
            yield page

    async def close(self) -> None:
        """The portal's client outlives the task."""


def _memo_key(method: str, params: Mapping[str, Any]) -> str | None:
    name = method.lower()
    if name not in _MEMO_METHODS:
        return None
    canonical = {str(k).lower(): _canon(v) for k, v in params.items()}
    return name + json.dumps(canonical, sort_keys=True, default=str)


def _canon(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k).lower(): _canon(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canon(v) for v in value]
    return str(value)
