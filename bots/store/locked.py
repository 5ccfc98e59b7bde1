"""One thread while its lock is held: the handle through which a turn reads and writes it.

Only ``bots.threads`` makes these, with the lock taken; code given one (the
pipeline, the routing of sends) cannot reach another thread or take a lock. It lives with the store so that
the pipeline (which `bots.threads` runs) can be given one without importing `bots.threads`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bots.store.base import Snapshot, ThreadStore
from bots.types import Identity, StoredEvent, ThreadEvent


class LockedThread:
    def __init__(self, store: ThreadStore, thread_id: str, clock: Callable[[], float], *, new: bool = False) -> None:
        """``new``: the thread was created under this lock's holder (a new customer's) and nothing of it is stored
        yet, so reading it until the first commit would find nothing: those reads are skipped (round trips on
        PostgreSQL and Redis, hand-offs to SQLite's reader thread)."""
        self._store = store
        self.thread_id = thread_id
        self.clock = clock
        self._nothing_stored = new
        self.made_here = new  # kept after the first commit: the turn's outcome says so (TurnOutcome.made_thread)

    async def load(self) -> Snapshot | None:
        if self._nothing_stored:
            return None
        return await self._store.load(self.thread_id)

    async def commit(
        self, state: dict[str, Any], events: list[ThreadEvent], *, expected_version: int, now: float
    ) -> int:
        """Append ``events`` and save ``state``; raises ConflictError if someone wrote since ``expected_version``.

        The wake-up index gets the state's earliest due reminder (``ThreadState.wake_at``).
        """
        self._nothing_stored = False  # whatever comes of it: after an attempt, only the store knows
        return await self._store.commit(
            self.thread_id, state, events, expected_version=expected_version, now=now, wake_at=state.get("wake_at")
        )

    async def append(self, events: list[ThreadEvent]) -> tuple[StoredEvent, ...]:
        """Record events that change nothing in the state (a delivery, a refusal), at the end of the log."""
        if not events:
            return ()
        snapshot = await self.load()
        if snapshot is None:
            return ()
        version = await self.commit(snapshot.state, events, expected_version=snapshot.version, now=self.clock())
        first = version - len(events) + 1
        return tuple(StoredEvent(self.thread_id, first + i, e) for i, e in enumerate(events))

    async def events(self, *, after: int = 0, limit: int = 1000) -> list[StoredEvent]:
        if self._nothing_stored:
            return []
        return await self._store.events(self.thread_id, after=after, limit=limit)

    async def tail(self, kinds: tuple[str, ...], limit: int) -> list[StoredEvent]:
        if self._nothing_stored:
            return []
        return await self._store.tail(self.thread_id, kinds, limit)

    async def turn_events(self, message_id: str) -> list[StoredEvent]:
        if self._nothing_stored:
            return []
        return await self._store.turn_events(self.thread_id, message_id)

    async def has_message(self, message_id: str) -> bool:
        if self._nothing_stored:
            return False
        return await self._store.has_message(self.thread_id, message_id)

    async def identities(self) -> list[Identity]:
        return await self._store.identities(self.thread_id)
