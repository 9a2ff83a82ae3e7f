"""Streaming list reads: the chained ID window, and start/next paging where a method needs it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from b24kit.errors import ApiError, InvalidRequest

from . import _paging
from ._batch import BatchResult, Chunk
from ._engine import Engine
from ._errors import refused
from ._paging import PAGE, Plan, Shape
from ._wire import envelope


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list: its rows, and the list's ``total`` when the portal said it."""

    rows: list[dict[str, Any]]
    total: int | None


async def iter_pages(engine: Engine, method: str, params: Mapping[str, Any] | None) -> AsyncIterator[Page]:
    """Every page of a list, in ID order, each row once, holding at most two batches."""
    plan = _paging.plan(method, params)
    if plan.mode == "offset":
        async for page in _offset_pages(engine, plan, 0):
            yield page
        return
    scan = _WindowScan(engine, plan)
    async for page in scan.pages():
        yield page
    if scan.switch_at is not None:
        async for page in _offset_pages(engine, replace(plan, shape=scan.shape), scan.switch_at):
            yield page


class _WindowScan:
    """State of one ID-window scan: the last ID seen, the count, and what the rows look like."""

    def __init__(self, engine: Engine, plan: Plan) -> None:
        self.engine = engine
        self.plan = plan
        self.shape = plan.shape
        self.last_id: int | None = None
        self.total: int | None = None
        self.seen = 0
        self.probing = False
        self.repeats = 0
        self.refusals = 0
        self.switch_at: int | None = None
        self.counting = False

    def next_chunk(self, first: bool) -> Chunk:
        plan = replace(self.plan, shape=self.shape)
        self.counting = first
        if first:
            return _paging.window_chunk(plan, None, _paging.BATCH, count=True)
        pages, self.probing = _paging.pages_needed(self.total, self.seen)
        if self.repeats:
            pages, self.probing = 1, False
        return _paging.window_chunk(plan, self.last_id, pages, count=False)

    async def pages(self) -> AsyncIterator[Page]:
        chunk = self.next_chunk(first=True)
        task: asyncio.Task[BatchResult] | None = asyncio.create_task(self._fetch(chunk))
        try:
            while task is not None:
                result = await task
                pages, more = self.absorb(chunk, result)
                task = None
                if more and self.switch_at is None:
                    chunk = self.next_chunk(first=False)
                    task = asyncio.create_task(self._fetch(chunk))  # fetched while the rows are consumed
                for rows in pages:
                    yield Page(rows, self.total)
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task

    async def _fetch(self, chunk: Chunk) -> BatchResult:
        return await self.engine.run_chunk(chunk, halt=True, resend=False)

    def absorb(self, chunk: Chunk, result: BatchResult) -> tuple[list[list[dict[str, Any]]], bool]:
        """The new pages of a batch answer, and whether the scan goes on."""
        pages: list[list[dict[str, Any]]] = []
        planned = self.shape
        for label, _, _ in chunk.items:
            error = result.errors.get(label)
            if error is not None:
                self._refused(error)
                return pages, True
            self.refusals = 0
            if self.counting and label == "p0":  # only the start=0 page counts; start=-1 says 0
                self.total = result.totals.get(label)
            rows = self._rows(result.results.get(label))
            fresh = self._fresh(rows)
            if fresh:
                pages.append(fresh)
                self.seen += len(fresh)
            if len(fresh) < len(rows):  # the page started over: its $result reference did not resolve
                self._repeated()
                return pages, self.switch_at is None
            if len(rows) < PAGE:
                return pages, False
            if self.shape != planned:  # later pages were chained with the wrong row path
                return pages, True
        return pages, self.total is None or self.seen < self.total or self.probing

    def _rows(self, value: Any) -> list[dict[str, Any]]:
        got = _paging.rows_of(value, self.shape)
        if got is None:
            raise InvalidRequest(
                f"{self.plan.method} did not answer with a list of rows", method=self.plan.method
            )
        rows, self.shape = got
        return rows

    def _fresh(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        fresh = []
        for row in rows:
            found = _paging.row_id(row, self.shape)
            if found is None:
                raise InvalidRequest(
                    f"{self.plan.method} returned a row without an ID", method=self.plan.method
                )
            ident, self.shape = found
            if self.last_id is None or ident > self.last_id:
                fresh.append(row)
                self.last_id = ident
        return fresh

    def _repeated(self) -> None:
        self.repeats += 1
        if self.repeats > 2:  # the method ignores the >ID filter: page by offset from here
            self.switch_at = self.seen

    def _refused(self, error: ApiError | Exception) -> None:
        if not isinstance(error, ApiError) or not refused(error):
            raise error
        self.refusals += 1
        if self.refusals >= self.engine.config.retry.attempts:
            raise error


async def _offset_pages(engine: Engine, plan: Plan, start: int) -> AsyncIterator[Page]:
    """start/next paging: the first page plain, the rest 50 pages per batch when ``total`` is known."""
    body = await engine.send(plan.method, _paging.offset_params(plan, start), repeatable=True)
    first = envelope(body)
    rows, shape = _rows(plan, first.result, plan.shape)
    yield Page(rows, first.total)
    if first.next is None or not rows:
        return
    if first.total is None:
        async for page in _follow_next(engine, replace(plan, shape=shape), first.next):
            yield page
        return
    starts = list(range(first.next, first.total, PAGE))
    groups = [starts[i : i + _paging.BATCH] for i in range(0, len(starts), _paging.BATCH)]
    plan = replace(plan, shape=shape)
    task: asyncio.Task[BatchResult] | None = None
    try:
        for index, group in enumerate(groups):
            chunk = _paging.offset_chunk(plan, group)
            result = await (task or engine.run_chunk(chunk))
            task = None
            if index + 1 < len(groups):
                task = asyncio.create_task(engine.run_chunk(_paging.offset_chunk(plan, groups[index + 1])))
            for label, _, _ in chunk.items:
                error = result.errors.get(label)
                if error is not None:
                    raise error
                page_rows, shape = _rows(plan, result.results.get(label), shape)
                if not page_rows:
                    return
                yield Page(page_rows, first.total)
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task


async def _follow_next(engine: Engine, plan: Plan, start: int) -> AsyncIterator[Page]:
    nxt: int | None = start
    shape = plan.shape
    while nxt is not None:
        env = envelope(await engine.send(plan.method, _paging.offset_params(plan, nxt), repeatable=True))
        rows, shape = _rows(plan, env.result, shape)
        if not rows:
            return
        yield Page(rows, env.total)
        nxt = env.next


def _rows(plan: Plan, value: Any, shape: Shape) -> tuple[list[dict[str, Any]], Shape]:
    got = _paging.rows_of(value, shape)
    if got is None:
        raise InvalidRequest(f"{plan.method} did not answer with a list of rows", method=plan.method)
    return got
