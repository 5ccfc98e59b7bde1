"""Per-key locks inside one process.

asyncio.Lock and asyncio.Semaphore queue waiters first come, first served
(and since Python 3.11 a newcomer cannot overtake queued waiters), which
gives arrival order. A key's entry is dropped when nobody holds or waits for
it, so memory does not grow with the number of threads ever seen.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from bots.store.base import ThreadLock


class KeySlots:
    """At most ``size`` users per key at a time, in arrival order (``size`` 1: a lock per key)."""

    def __init__(self, size: int = 1) -> None:
        self.size = size
        self._keys: dict[str, tuple[asyncio.Lock | asyncio.Semaphore, int]] = {}

    @asynccontextmanager
    async def slot(self, key: str) -> AsyncIterator[None]:
        gate, users = self._keys.get(key, (None, 0))
        if gate is None:
            gate = asyncio.Lock() if self.size == 1 else asyncio.Semaphore(self.size)
        self._keys[key] = (gate, users + 1)
        try:
            async with gate:
                yield
        finally:
            gate, users = self._keys[key]
            if users <= 1:
                del self._keys[key]
            else:
                self._keys[key] = (gate, users - 1)

    def __len__(self) -> int:
        return len(self._keys)


class LocalThreadLock(ThreadLock):
    def __init__(self) -> None:
        self._slots = KeySlots(1)

    def lock(self, key: str) -> AbstractAsyncContextManager[None]:
        return self._slots.slot(key)

    def __len__(self) -> int:
        return len(self._slots)
