"""``ctx.memory`` for rules: small notes kept per portal in the state store's key-values, so
they survive restarts and retries (:class:`b24kit.automation.Memory`)."""

from __future__ import annotations

from .queue import StoreQueue

MAX_KEY = 200


class StoreMemory:
    """:class:`b24kit.automation.Memory` for one portal, on the runner's store."""

    def __init__(self, queue: StoreQueue, portal: str) -> None:
        self.queue = queue
        self.prefix = f"memory:{portal}:"

    def _key(self, key: str) -> str:
        if not key or len(key) > MAX_KEY:
            raise ValueError(f"a memory key has 1 to {MAX_KEY} characters, not {len(key)}")
        return self.prefix + key

    async def get(self, key: str) -> str | None:
        return await self.queue.run(self.queue.store.get, self._key(key))

    async def set(self, key: str, value: str) -> None:
        await self.queue.run(self.queue.store.set, self._key(key), value)

    async def delete(self, key: str) -> None:
        await self.queue.run(self.queue.store.delete, self._key(key))
