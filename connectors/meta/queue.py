"""Processing stored webhook items: one person at a time in the order they came, different people in parallel.

A webhook channel stores every item in its durable inbox before Meta gets
the 200, then hands the new ones to :class:`PersonQueues`. An item that
fails stays in the inbox (a restart processes it again); the ones done are
marked finished in batches, so a burst costs few writes.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from connectors.base import WebhookInbox

log = logging.getLogger(__name__)
Item = TypeVar("Item")
FLUSH_BATCH = 200
FLUSH_DELAY_SECONDS = 0.2


class PersonQueues(Generic[Item]):
    def __init__(
        self,
        process: Callable[[Item], Awaitable[None]],
        inbox: WebhookInbox,
        clock: Callable[[], float],
        platform: str,
    ) -> None:
        self._process = process
        self._inbox = inbox
        self._clock = clock
        self._platform = platform
        self._queues: dict[Hashable, deque[tuple[int, Item]]] = {}
        self._workers: dict[Hashable, asyncio.Task[None]] = {}
        self._done: list[int] = []
        self._flusher: asyncio.Task[None] | None = None
        self.processed = 0  # items taken off the queues, done or failed (for tests and benchmarks)

    def dispatch(self, row_id: int, person: Hashable, item: Item) -> None:
        """Queue a stored item behind the same person's earlier ones."""
        self._queues.setdefault(person, deque()).append((row_id, item))
        if person not in self._workers:
            self._workers[person] = asyncio.create_task(self._work(person))

    async def _work(self, person: Hashable) -> None:
        queue = self._queues[person]
        try:
            while queue:
                row_id, item = queue.popleft()
                try:
                    await self._process(item)
                except Exception:  # one bad item must not hold up the person's later ones
                    log.exception(
                        "%s: inbox item %d could not be processed; it stays for the next start", self._platform, row_id
                    )
                else:
                    self._done.append(row_id)
                self.processed += 1
                if len(self._done) >= FLUSH_BATCH:
                    await self.flush()
                elif self._flusher is None or self._flusher.done():
                    self._flusher = asyncio.create_task(self._flush_soon())
        finally:
            del self._queues[person]
            del self._workers[person]

    async def _flush_soon(self) -> None:
        await asyncio.sleep(FLUSH_DELAY_SECONDS)
        await self.flush()

    async def flush(self) -> None:
        """Mark the processed items finished in the inbox."""
        done, self._done = self._done, []
        if done:
            await self._inbox.finish(done, now=self._clock())

    async def idle(self) -> None:
        """Wait until every queued item has been processed, and record them finished."""
        while self._workers:
            await asyncio.gather(*list(self._workers.values()), return_exceptions=True)
        if self._flusher is not None:
            await self._flusher
        await self.flush()
