"""``AsyncClient``: every REST call b24kit makes to a portal, for asyncio code."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any

from b24kit.errors import BatchError

from . import _batch, _listing
from ._batch import BatchResult, Command, CommandError
from ._clock import Clock
from ._config import PortalConfig
from ._engine import Engine, Stats
from ._listing import Page
from ._wire import Envelope, envelope, normalize


class AsyncClient:
    """A portal client: plain results, batches of any size, streamed lists, typed errors.

    ```python
    async with AsyncClient.from_url("http://127.0.0.1:8024/rest/1/secret/") as b24:
        deal = await b24.call("crm.deal.get", {"id": 5})
        async for row in b24.iter_list("crm.deal.list", {"select": ["ID", "TITLE"]}):
            ...
    ```
    One client per portal; it may be shared by any number of tasks of one event loop.
    """

    def __init__(self, config: PortalConfig, *, clock: Clock | None = None) -> None:
        self.config = config
        self._engine = Engine(config, clock)

    @classmethod
    def from_url(cls, url: str, *, clock: Clock | None = None, **kwargs: Any) -> AsyncClient:
        """A client for an incoming-webhook URL; ``kwargs`` go to :meth:`PortalConfig.from_url`."""
        return cls(PortalConfig.from_url(url, **kwargs), clock=clock)

    @property
    def stats(self) -> Stats:
        """Requests sent, retries, limit hits, token refreshes and time spent waiting."""
        return self._engine.stats

    async def call(
        self, method: str, params: Mapping[str, Any] | None = None, *, idempotent: bool | None = None
    ) -> Any:
        """Call one method and return its plain ``result`` (raises a typed :class:`ApiError`).

        ``idempotent`` overrides the read/write guess that decides whether a call whose answer
        was lost is sent again (reads: yes; writes: no, they may have been applied).
        """
        return (await self.request(method, params, idempotent=idempotent)).result

    async def request(
        self, method: str, params: Mapping[str, Any] | None = None, *, idempotent: bool | None = None
    ) -> Envelope:
        """Like :meth:`call`, but the whole answer: ``result``, ``total``, ``next``, ``time``."""
        repeatable = _batch.is_read(method) if idempotent is None else idempotent
        body = await self._engine.send(method, normalize(dict(params or {})), repeatable=repeatable)
        return envelope(body)

    async def batch(
        self, commands: Mapping[str, Command] | Sequence[Command], *, halt: bool = False
    ) -> BatchResult:
        """Run any number of commands, 50 per request, several requests at once within the
        limits; results and errors keep the commands' labels and order (a sequence is
        labelled ``"0"``, ``"1"``...). Failed commands are in ``errors``; nothing is raised
        for them (``result.raise_for_errors()`` does that)."""
        pairs = _batch.labelled(commands)
        parts = await asyncio.gather(*(self._engine.run_chunk(c, halt=halt) for c in _batch.chunks(pairs)))
        out = BatchResult()
        for part in parts:
            out.merge(part)
        return out.ordered(label for label, _ in pairs)

    async def iter_pages(self, method: str, params: Mapping[str, Any] | None = None) -> AsyncIterator[Page]:
        """Every page of a list method, in ID order (see :meth:`iter_list`)."""
        async for page in _listing.iter_pages(self._engine, method, normalize(dict(params or {}))):
            yield page

    async def iter_list(
        self, method: str, params: Mapping[str, Any] | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Every record of a list method, each once, in ID order, in constant memory.

        Pages with the ID window and ``start=-1``, 50 chained pages (2,500 rows) per request;
        methods that cannot (``crm.address.list``, user-field lists, a custom ``order``, a
        given ``start``) page with ``start``/``next``, 50 pages per request when ``total`` is
        known. ``order`` and ``start`` are managed; ``select`` gains the ID if it lacks it.
        """
        async for page in self.iter_pages(method, params):
            for row in page.rows:
                yield row

    async def get_many(
        self,
        method: str,
        ids: Iterable[Hashable],
        *,
        id_param: str = "id",
        params: Mapping[str, Any] | None = None,
    ) -> dict[Any, Any]:
        """``{id: result}`` for every ID, through batches; each distinct ID is fetched once.

        Raises :class:`BatchError` (with ``results`` and ``errors`` keyed by ID) when any failed.
        """
        unique: dict[str, Any] = {}
        for ident in ids:
            unique.setdefault(str(ident), ident)
        idents = list(unique.values())
        extra = dict(params or {})
        commands = {f"g{i}": Command(method, {**extra, id_param: ident}) for i, ident in enumerate(idents)}
        result = await self.batch(commands)
        found = {idents[int(k[1:])]: v for k, v in result.results.items()}
        if result.errors:
            errors: dict[Any, CommandError] = {idents[int(k[1:])]: e for k, e in result.errors.items()}
            raise BatchError(errors, found)
        return found

    async def close(self) -> None:
        await self._engine.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"AsyncClient({self.config.safe_url!r}, limits={self.config.limits!r})"
