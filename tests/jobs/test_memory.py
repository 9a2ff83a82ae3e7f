"""``ctx.memory`` on the runner's state store: notes per portal that outlive the context."""

from __future__ import annotations

import asyncio

import pytest

from b24kit.jobs.memory import StoreMemory
from b24kit.jobs.queue import StoreQueue
from b24kit.jobs.store import JobStore


def test_notes_are_kept_per_portal_in_the_store(store: JobStore):
    async def main() -> None:
        queue = StoreQueue(store, dedupe_window=0, lease=60)
        try:
            prod, test = StoreMemory(queue, "prod"), StoreMemory(queue, "test")
            assert await prod.get("deal:1") is None
            await prod.set("deal:1", "C1:WON|UF_CRM_INN")
            await prod.set("deal:1", "C1:WON|PHONE")  # set again: replaced
            assert await StoreMemory(queue, "prod").get("deal:1") == "C1:WON|PHONE"  # a new context
            assert await test.get("deal:1") is None
            await prod.delete("deal:1")
            await prod.delete("deal:1")  # deleting what is not there is fine
            assert await prod.get("deal:1") is None
            with pytest.raises(ValueError, match="1 to 200 characters"):
                await prod.set("x" * 201, "")
        finally:
            queue.close()

    asyncio.run(main())
    assert store.keys("memory:") == {}
