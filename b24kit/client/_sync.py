"""``Client``: the same API as ``AsyncClient`` for scripts, the CLI and threads.

Its coroutines run on a private event loop in a daemon thread, so a call blocks and returns the
plain result whether or not the calling thread is already running an event loop (fast-bitrix24's
sync wrapper returns an ``asyncio.Task`` there).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Coroutine, Hashable, Iterable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, TypeVar

from ._async import AsyncClient
from ._batch import BatchResult, Command
from ._clock import Clock
from ._config import PortalConfig
from ._engine import Stats
from ._listing import Page
from ._wire import Envelope

T = TypeVar("T")


class _LoopThread:
    """An event loop running forever in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="b24kit-client", daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        if threading.current_thread() is self.thread:
            coro.close()
            raise RuntimeError("a sync Client cannot be used from its own event loop; use AsyncClient")
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def stop(self) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)
        if not self.loop.is_running():
            self.loop.close()


class Client:
    """A synchronous portal client; see :class:`AsyncClient` for what each method does.

    ```python
    with Client.from_url("http://127.0.0.1:8024/rest/1/secret/") as b24:
        deal = b24.call("crm.deal.get", {"id": 5})
        for row in b24.iter_list("crm.deal.list", {"select": ["ID"]}):
            ...
    ```
    Thread-safe: calls from several threads share one loop, one bucket and one token.
    """

    def __init__(self, config: PortalConfig, *, clock: Clock | None = None) -> None:
        self.config = config
        self._async = AsyncClient(config, clock=clock)
        self._loop: _LoopThread | None = _LoopThread()

    @classmethod
    def from_url(cls, url: str, *, clock: Clock | None = None, **kwargs: Any) -> Client:
        return cls(PortalConfig.from_url(url, **kwargs), clock=clock)

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._loop is None:
            coro.close()
            raise RuntimeError("the client is closed")
        return self._loop.run(coro)

    @property
    def stats(self) -> Stats:
        return self._async.stats

    def call(
        self, method: str, params: Mapping[str, Any] | None = None, *, idempotent: bool | None = None
    ) -> Any:
        return self._run(self._async.call(method, params, idempotent=idempotent))

    def request(
        self, method: str, params: Mapping[str, Any] | None = None, *, idempotent: bool | None = None
    ) -> Envelope:
        return self._run(self._async.request(method, params, idempotent=idempotent))

    def batch(
        self, commands: Mapping[str, Command] | Sequence[Command], *, halt: bool = False
    ) -> BatchResult:
        return self._run(self._async.batch(commands, halt=halt))

    def get_many(
        self,
        method: str,
        ids: Iterable[Hashable],
        *,
        id_param: str = "id",
        params: Mapping[str, Any] | None = None,
    ) -> dict[Any, Any]:
        return self._run(self._async.get_many(method, ids, id_param=id_param, params=params))

    def iter_pages(self, method: str, params: Mapping[str, Any] | None = None) -> Iterator[Page]:
        pages: AsyncIterator[Page] = self._async.iter_pages(method, params)
        try:
            while True:
                try:
                    yield self._run(_next(pages))
                except StopAsyncIteration:
                    return
        finally:
            if self._loop is not None:
                self._run(_close(pages))

    def iter_list(self, method: str, params: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        for page in self.iter_pages(method, params):
            yield from page.rows

    def close(self) -> None:
        if self._loop is not None:
            self._loop.run(self._async.close())
            self._loop.stop()
            self._loop = None

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __del__(self) -> None:
        loop = getattr(self, "_loop", None)
        if loop is not None and loop.loop.is_running():
            loop.loop.call_soon_threadsafe(loop.loop.stop)

    def __repr__(self) -> str:
        return f"Client({self.config.safe_url!r}, limits={self.config.limits!r})"


async def _next(pages: AsyncIterator[Page]) -> Page:
    return await pages.__anext__()


async def _close(pages: AsyncIterator[Page]) -> None:
    aclose = getattr(pages, "aclose", None)
    if aclose is not None:
        await aclose()
