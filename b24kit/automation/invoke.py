"""Calling a handler the same way everywhere: ``async def`` is awaited, a plain function runs in
a worker thread (so it may block without stalling the runner)."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any


async def call_handler(fn: Any, payload: Any, ctx: Any, settings: Any) -> Any:
    """``fn(payload, ctx, settings)``: awaited when it is a coroutine function; otherwise run in
    a thread, and an awaitable it returns (a ``functools.partial`` of an async function, say)
    awaited on the loop."""
    if inspect.iscoroutinefunction(fn):
        return await fn(payload, ctx, settings)
    result = await asyncio.to_thread(fn, payload, ctx, settings)
    if inspect.isawaitable(result):
        return await result
    return result
