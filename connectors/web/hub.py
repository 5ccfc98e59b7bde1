"""Open widget connections per thread, so every tab of a visitor sees every message live.

In one process the hub is the whole story. With a shared store several
workers serve the website, and a tab is connected to one of them: the hub
then also publishes every frame on the live bus (bots.live) and delivers
what other workers publish, so a reply made on any worker reaches every
open tab exactly once (see bots.live.bus for why).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from connectors.base import LiveFrames

log = logging.getLogger(__name__)
Send = Callable[[dict[str, Any]], Awaitable[None]]


class LiveHub:
    def __init__(self, bus: LiveFrames | None = None) -> None:
        self.bus = bus
        self._subscribers: dict[str, dict[Send, str]] = {}  # thread -> {connection: tab id}
        self._tab_ids = itertools.count(1)

    async def start(self) -> None:
        if self.bus is not None:
            await self.bus.start(self._deliver_here)  # other workers' frames, for the tabs here

    async def stop(self) -> None:
        if self.bus is not None:
            await self.bus.stop()

    async def subscribe(self, thread_id: str, send: Send) -> None:
        """Raises if the bus cannot take it: a tab that other workers' frames could not reach is not kept."""
        tabs = self._subscribers.get(thread_id, {})
        if send in tabs:
            return
        tab_id = str(next(self._tab_ids))
        if self.bus is not None:
            if not tabs:
                await self.bus.watch(thread_id)
            await self.bus.tab_opened(thread_id, tab_id)
        self._subscribers.setdefault(thread_id, {})[send] = tab_id

    async def unsubscribe(self, thread_id: str, send: Send) -> None:
        tabs = self._subscribers.get(thread_id)
        if tabs is None or send not in tabs:
            return
        tab_id = tabs.pop(send)
        if not tabs:
            del self._subscribers[thread_id]
        if self.bus is not None:
            try:
                if not tabs:
                    await self.bus.unwatch(thread_id)
                await self.bus.tab_closed(thread_id, tab_id)
            except Exception as exc:  # the bus is down: the tab's lease runs out by itself
                log.warning("live bus: could not withdraw a tab of %s: %s", thread_id, exc)

    async def online(self, thread_id: str) -> int:
        """How many open chat windows show this thread right now (on every worker)."""
        if self.bus is not None:
            return await self.bus.online(thread_id)
        return len(self._subscribers.get(thread_id, ()))

    async def publish(self, thread_id: str, frame: dict[str, Any]) -> None:
        """Send ``frame`` to every tab of the thread, on every worker (ask :meth:`online` how many there are).

        A broken connection is dropped and the others still get the frame.
        """
        await self._deliver_here(thread_id, frame)
        if self.bus is not None:
            await self.bus.publish(thread_id, frame)

    async def _deliver_here(self, thread_id: str, frame: dict[str, Any]) -> None:
        for send in list(self._subscribers.get(thread_id, ())):
            try:
                await send(frame)
            except Exception as exc:  # a closed socket must not stop the others
                log.debug("dropping a widget connection of %s: %s", thread_id, exc)
                await self.unsubscribe(thread_id, send)
