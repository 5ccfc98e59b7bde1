"""The seam between workers: frames for open chat windows, and which windows are open where.

A customer's browser tab holds a WebSocket to ONE worker, while the turn
that must reach it (their Messenger message, an agent's reply, a reminder,
a follow-up) may be processed by any worker. The worker that produced a
frame delivers it to its own tabs at once and publishes it on the bus with
its worker id; every other worker delivers it to its tabs, and ignores its
own echo. So each tab gets each frame exactly once, and frames of a thread
keep their order because they are published under the thread's lock.

Pub/sub is at most once: a worker whose bus connection drops misses frames
while it reconnects. Tabs recover on their own because every frame carries
the thread's sequence numbers and a reconnecting tab asks for what it missed.

Presence (how many tabs show a thread) is kept by the bus too, as leases
each worker renews for its own tabs: a killed worker's tabs drop out when
their lease runs out instead of counting forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any

# A frame from another worker for this worker's tabs of a thread.
OnFrame = Callable[[str, dict[str, Any]], Awaitable[None]]

PRESENCE_TTL_SECONDS = 45.0  # a tab counts as open this long after its worker last renewed it
PRESENCE_RENEW_SECONDS = 15.0


def new_worker_id() -> str:
    """Unique per process, readable in logs: which machine and process published a frame."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class LiveBus(ABC):
    """Frames to every worker, and a shared count of open tabs per thread."""

    def __init__(self) -> None:
        self.worker_id = new_worker_id()
        self._tabs: dict[str, set[str]] = {}  # thread -> this worker's tab ids, whose leases it renews

    def _remember_tab(self, thread_id: str, tab_id: str) -> None:
        self._tabs.setdefault(thread_id, set()).add(tab_id)

    def _forget_tab(self, thread_id: str, tab_id: str) -> None:
        tabs = self._tabs.get(thread_id)
        if tabs is not None:
            tabs.discard(tab_id)
            if not tabs:
                del self._tabs[thread_id]

    @abstractmethod
    async def start(self, on_frame: OnFrame) -> None:
        """Connect and listen; ``on_frame`` gets frames other workers publish for threads with tabs here."""

    @abstractmethod
    async def stop(self) -> None:
        """Stop listening, withdraw this worker's tabs and release connections."""

    @abstractmethod
    async def publish(self, thread_id: str, frame: dict[str, Any]) -> None:
        """Send ``frame`` to the other workers' tabs of ``thread_id``."""

    @abstractmethod
    async def watch(self, thread_id: str) -> None:
        """This worker now has a tab of ``thread_id``: send it that thread's frames.

        Returns once every frame published after it will reach this worker, so a tab answered after
        its watch misses nothing (and a test needs no pause for the subscription to reach the server).
        """

    @abstractmethod
    async def unwatch(self, thread_id: str) -> None:
        """This worker's last tab of ``thread_id`` closed: no frame published after this returns reaches it."""

    @abstractmethod
    async def tab_opened(self, thread_id: str, tab_id: str) -> None: ...

    @abstractmethod
    async def tab_closed(self, thread_id: str, tab_id: str) -> None: ...

    @abstractmethod
    async def online(self, thread_id: str) -> int:
        """Open tabs of the thread on every worker (leases not yet run out)."""


async def cancel_all(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel background tasks and wait until they have stopped."""
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
