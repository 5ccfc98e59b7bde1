"""Per-key locks inside one process.

asyncio.Lock queues waiters first come, first served (and since Python 3.11
a newcomer cannot overtake queued waiters), which gives arrival order. Locks
are dropped when nobody holds or waits for them, so memory does not grow with
the number of threads ever seen.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import AsyncIterator

from bots.store.base import ThreadLock


class LocalThreadLock(ThreadLock):
    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def lock(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)
