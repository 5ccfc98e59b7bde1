"""Fires the reminders actions scheduled (Rasa's ``ReminderScheduled``), also after a restart.

Reminders live in the thread's state, committed with the turn that scheduled
them, and the store indexes the earliest due time of every thread
(``wake_at``). This loop only asks the store which threads are due, so
nothing is lost when the process stops: a reminder that fell due while the
server was down fires as soon as it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from bots.threads.access import Threads

log = logging.getLogger(__name__)
RETRY_FAILED_SECONDS = 60.0


class ReminderScheduler:
    def __init__(self, threads: Threads, *, max_sleep: float = 30.0, clock: Callable[[], float] = time.time) -> None:
        self.threads = threads
        self.max_sleep = max_sleep
        self.clock = clock
        self._wake = asyncio.Event()
        self._failed: dict[str, float] = {}  # thread -> when to try again after an unexpected failure
        self._task: asyncio.Task[None] | None = None

    def poke(self, _wake_at: float | None = None) -> None:
        """A turn scheduled a reminder: look again now instead of at the planned time."""
        self._wake.set()

    async def start(self) -> None:
        self.threads.pipeline.on_wake = self.poke
        self._task = asyncio.create_task(self._loop(), name="reminders")

    async def stop(self) -> None:
        self.threads.pipeline.on_wake = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def fire_due(self) -> int:
        """Fire every due reminder once; returns how many fired."""
        now = self.clock()
        fired = 0
        for thread_id in await self.threads.due_threads(now=now, limit=100 + len(self._failed)):
            if self._failed.get(thread_id, 0.0) > now:
                continue
            try:
                fired += await self.threads.fire_reminders(thread_id)
                self._failed.pop(thread_id, None)
            except Exception as exc:  # one broken thread must not stop the others' reminders
                log.exception("thread %s: firing its due reminders failed; they are dropped", thread_id)
                try:
                    await self.threads.drop_due_reminders(thread_id, f"{type(exc).__name__}: {exc}")
                except Exception:  # the store itself fails: try again later, after the others
                    log.exception(
                        "thread %s: dropping its reminders failed; trying again in %gs", thread_id, RETRY_FAILED_SECONDS
                    )
                    self._failed[thread_id] = now + RETRY_FAILED_SECONDS
        return fired

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.fire_due()
                next_wake = await self.threads.next_wake()
            except Exception:
                log.exception("the reminder scheduler failed; retrying")
                next_wake = None
            delay = self.max_sleep if next_wake is None else min(self.max_sleep, max(0.05, next_wake - self.clock()))
            if self._failed and next_wake is not None and next_wake <= self.clock():
                delay = min(self.max_sleep, max(0.05, min(self._failed.values()) - self.clock()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)
