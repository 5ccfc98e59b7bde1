"""Open widget connections per thread, so every tab of a visitor sees every message live."""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any, Awaitable, Callable

log = logging.getLogger(__name__)
Send = Callable[[dict[str, Any]], Awaitable[None]]


class LiveHub:
    """In one process. A multi-process deployment replaces it with a pub/sub-backed hub of the same shape."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[Send]] = defaultdict(set)

    def subscribe(self, thread_id: str, send: Send) -> None:
        self._subscribers[thread_id].add(send)

    def unsubscribe(self, thread_id: str, send: Send) -> None:
        subscribers = self._subscribers.get(thread_id)
        if subscribers is not None:
            subscribers.discard(send)
            if not subscribers:
                del self._subscribers[thread_id]

    def online(self, thread_id: str) -> int:
        """How many open chat windows show this thread right now."""
        return len(self._subscribers.get(thread_id, ()))

    async def publish(self, thread_id: str, frame: dict[str, Any]) -> int:
        """Send ``frame`` to every connection of the thread; a broken one is dropped, the others still get it."""
        sent = 0
        for send in list(self._subscribers.get(thread_id, ())):
            try:
                await send(frame)
                sent += 1
            except Exception as exc:  # a closed socket must not stop the others
                log.debug("dropping a widget connection of %s: %s", thread_id, exc)
                self.unsubscribe(thread_id, send)
        return sent
