"""The queue the HTTP app and the workers share, behind a small interface.

:class:`TaskQueue` is what the rest of the runner uses; :class:`StoreQueue` is the embedded
implementation on the runner's state store (SQLite or PostgreSQL), run on one database thread.
Concurrent accepts are grouped: while one transaction commits, newer arrivals wait and go into
the next one, so each request still gets its answer only after its event is committed, yet a
burst costs one commit per group instead of one per event.

Another engine (Celery over Redis or RabbitMQ) would implement the same protocol: ``submit``
stores and hands the task to the broker, ``claim`` becomes the broker's delivery.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, Protocol, TypeVar

from .inbox import Mark
from .model import Inbound, Outcome, Task
from .store import JobStore

T = TypeVar("T")
In = TypeVar("In")
Out = TypeVar("Out")


class TaskQueue(Protocol):
    """Durable tasks: accepted once, claimed by one worker at a time per record, retried, buried."""

    async def submit(self, item: Inbound) -> Outcome:
        """Store the item durably before returning (accepted: queued or merged; or duplicate)."""
        ...

    async def submit_many(self, items: Sequence[Inbound]) -> list[Outcome]: ...

    async def cycle(self, done: Sequence[tuple[Task, Mark | None]], limit: int) -> list[Task]:
        """Record ``done`` tasks as finished and claim up to ``limit`` ready ones (one per record)."""
        ...

    async def next_due(self) -> float | None:
        """When the earliest queued task becomes ready (``None``: nothing queued)."""
        ...

    async def save_progress(self, task: Task) -> None: ...

    async def fail(self, task: Task, error: str, retry_at: float | None) -> str:
        """``retry`` (queued again at ``retry_at``) or ``dead`` (``retry_at`` is None)."""
        ...

    async def depth(self) -> int:
        """Tasks queued or running."""
        ...

    async def wait(self, timeout: float) -> bool:
        """Until a task that needs no waiting was submitted (``True``), or ``timeout`` seconds."""
        ...


class _Group(Generic[In, Out]):
    """Calls that arrive while a transaction commits wait and go into the next one together."""

    def __init__(self, queue: StoreQueue, commit: Callable[[list[In]], list[Out]]) -> None:
        self.queue = queue
        self.commit = commit
        self.pending: list[tuple[In, asyncio.Future[Out]]] = []
        self.flushing = False
        self._flusher: asyncio.Task[None] | None = None

    async def add(self, item: In) -> Out:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Out] = loop.create_future()
        self.pending.append((item, future))
        if not self.flushing:
            self.flushing = True
            self._flusher = loop.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        try:
            while self.pending:
                group, self.pending = self.pending, []
                try:
                    results = await self.queue.run(self.commit, [item for item, _ in group])
                except Exception as exc:  # the whole group failed: every caller hears it
                    for _, future in group:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                self.queue.commits += 1
                for (_, future), result in zip(group, results, strict=True):
                    if not future.done():
                        future.set_result(result)
        finally:
            self.flushing = False


class StoreQueue:
    """:class:`TaskQueue` on a :class:`JobStore`, for one runner process."""

    def __init__(self, store: JobStore, *, dedupe_window: float, lease: float) -> None:
        self.store = store
        self.dedupe_window = dedupe_window
        self.lease = lease
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="b24kit-db")
        self._ready = asyncio.Event()
        self.commits = 0
        self._accepts: _Group[Inbound, Outcome] = _Group(self, self._accept)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a store call on the database thread."""
        return await asyncio.get_running_loop().run_in_executor(self._db, fn, *args)

    async def submit(self, item: Inbound) -> Outcome:
        outcome = await self._accepts.add(item)
        if item.delay <= 0:  # a held-back task is found when its time comes (see Workers.run)
            self._ready.set()
        return outcome

    async def submit_many(self, items: Sequence[Inbound]) -> list[Outcome]:
        return list(await asyncio.gather(*(self.submit(item) for item in items)))

    def _accept(self, items: list[Inbound]) -> list[Outcome]:
        return self.store.inbox.accept(items, now=time.time(), dedupe_window=self.dedupe_window)

    async def cycle(self, done: Sequence[tuple[Task, Mark | None]], limit: int) -> list[Task]:
        return await self.run(lambda: self.store.inbox.cycle(done, limit, now=time.time(), lease=self.lease))

    async def next_due(self) -> float | None:
        return await self.run(self.store.inbox.next_due)

    async def claim(self, limit: int) -> list[Task]:
        return await self.cycle([], limit)

    async def complete(self, task: Task, mark: Mark | None = None) -> None:
        await self.cycle([(task, mark)], 0)

    async def save_progress(self, task: Task) -> None:
        await self.run(lambda: self.store.inbox.save_progress(task, now=time.time()))

    async def fail(self, task: Task, error: str, retry_at: float | None) -> str:
        return await self.run(lambda: self.store.inbox.fail(task, error, now=time.time(), retry_at=retry_at))

    async def depth(self) -> int:
        counts = await self.run(self.store.inbox.counts)
        return counts.get("queued", 0) + counts.get("running", 0)

    async def wait(self, timeout: float) -> bool:
        woken = True
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
        except TimeoutError:
            woken = False
        self._ready.clear()
        return woken

    def wake(self) -> None:
        self._ready.set()

    async def retry_dead(self, ids: Iterable[int] | None) -> list[int]:
        found = await self.run(lambda: self.store.inbox.retry_dead(ids, now=time.time()))
        self._ready.set()
        return found

    def close(self) -> None:
        self._db.shutdown(wait=True)
