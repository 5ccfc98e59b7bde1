"""Open widget connections per thread, so every tab of a visitor sees every message live.

In one process the hub is the whole story. With a shared store several
workers serve the website, and a tab is connected to one of them: the hub
then also publishes every frame on the live bus (bots.live) and delivers
what other workers publish, so a reply made on any worker reaches every
open tab exactly once (see bots.live.bus for why).

A subscription is recorded and dropped at once, before any await, so a socket
that ends while its hello is handled can never leave a tab behind. What the bus
must hear of it (watch, tab opened, tab closed, unwatch) runs in the hub's own
tasks, one after the other per thread, so it completes in order even when the
connection's handler is cancelled half-way.
"""

from __future__ import annotations

import asyncio
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
        self._watched: set[str] = set()  # threads whose frames the bus sends this worker
        self._last_change: dict[str, asyncio.Task[None]] = {}  # thread -> its latest bus change
        self._changes: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        if self.bus is not None:
            await self.bus.start(self._deliver_here)  # other workers' frames, for the tabs here

    async def stop(self) -> None:
        if self._changes:
            # the bus hears of every tab that closed before it stops (it withdraws the rest itself)
            await asyncio.wait(self._changes, timeout=10.0)
        if self.bus is not None:
            await self.bus.stop()

    @property
    def open_tabs(self) -> int:
        """Subscriptions of this worker's connections (every thread): what a health check can watch."""
        return sum(len(tabs) for tabs in self._subscribers.values())

    async def subscribe(self, thread_id: str, send: Send) -> None:
        """Raises if the bus cannot take it: a tab that other workers' frames could not reach is not kept."""
        tabs = self._subscribers.setdefault(thread_id, {})
        if send in tabs:
            return
        tab_id = tabs[send] = str(next(self._tab_ids))
        if self.bus is None:
            return
        try:
            await asyncio.shield(self._in_order(thread_id, self._opened, tab_id))
        except asyncio.CancelledError:
            raise  # the change goes on; the connection's unsubscribe, queued behind it, withdraws the tab
        except Exception:
            await self.unsubscribe(thread_id, send)
            raise

    async def unsubscribe(self, thread_id: str, send: Send) -> None:
        """Ends at once here; the bus's part goes on even if the caller is cancelled while it waits."""
        tabs = self._subscribers.get(thread_id)
        if tabs is None or send not in tabs:
            return
        tab_id = tabs.pop(send)
        if not tabs:
            del self._subscribers[thread_id]
        if self.bus is not None:
            await asyncio.shield(self._in_order(thread_id, self._closed, tab_id))

    def _in_order(
        self, thread_id: str, change: Callable[[str, str], Awaitable[None]], tab_id: str
    ) -> asyncio.Task[None]:
        """Run a bus change of the thread after the ones before it, in a task of the hub's."""
        previous = self._last_change.get(thread_id)

        async def run() -> None:
            if previous is not None:
                await asyncio.wait([previous])  # its outcome is its own caller's
            await change(thread_id, tab_id)

        task = asyncio.create_task(run(), name=f"live-hub-{thread_id}")
        self._last_change[thread_id] = task
        self._changes.add(task)
        task.add_done_callback(lambda done: self._settled(thread_id, done))
        return task

    def _settled(self, thread_id: str, task: asyncio.Task[None]) -> None:
        self._changes.discard(task)
        if self._last_change.get(thread_id) is task:
            del self._last_change[thread_id]
        if not task.cancelled():
            task.exception()  # seen: a caller that was cancelled meanwhile has it logged by _opened

    async def _opened(self, thread_id: str, tab_id: str) -> None:
        assert self.bus is not None
        try:
            if thread_id not in self._watched:
                await self.bus.watch(thread_id)
                self._watched.add(thread_id)
            await self.bus.tab_opened(thread_id, tab_id)
        except Exception as exc:
            log.warning("live bus: could not register a tab of %s: %s", thread_id, exc)
            raise

    async def _closed(self, thread_id: str, tab_id: str) -> None:
        assert self.bus is not None
        try:
            await self.bus.tab_closed(thread_id, tab_id)
            if thread_id not in self._subscribers and thread_id in self._watched:
                self._watched.discard(thread_id)
                await self.bus.unwatch(thread_id)
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
