"""The SQLite store's thread log and snapshots, and the wake-up index kept beside each snapshot."""

from __future__ import annotations

import sqlite3
from typing import Any

from bots.store.base import ThreadLog, WakeIndex
from bots.store.jsontext import as_json, from_json
from bots.store.records import ConflictError, Snapshot
from bots.store.sqlite.core import EVENT_COLUMNS, NO_SNAPSHOT, SQLiteCore, insert_events, stored_events
from bots.types import INBOUND_KINDS, StoredEvent, ThreadEvent

LAST_SEQ = 2**62
# a thread's version (NULL before its first commit) and whether it was merged away: one statement for both
VERSION_AND_MERGE = (
    "SELECT (SELECT version FROM threads WHERE thread_id = ?1), "
    "EXISTS (SELECT 1 FROM thread_merges WHERE source_id = ?1)"
)


def _write_commit(
    db: sqlite3.Connection,
    thread_id: str,
    state: str,
    events: list[ThreadEvent],
    expected_version: int,
    now: float,
    wake_at: float | None,
) -> int:
    stored, merged = db.execute(VERSION_AND_MERGE, (thread_id,)).fetchone()
    version = int(stored) if stored is not None else 0
    if version != expected_version:
        raise ConflictError(f"thread {thread_id} is at version {version}, expected {expected_version}")
    if stored is None and merged:
        raise ConflictError(f"thread {thread_id} was merged into another thread")
    insert_events(db, thread_id, version + 1, events)
    new_version = version + len(events)
    db.execute(
        "INSERT INTO threads (thread_id, version, state, created_at, updated_at, wake_at) "
        "VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (thread_id) DO UPDATE SET version = excluded.version, state = excluded.state, "
        "updated_at = excluded.updated_at, wake_at = excluded.wake_at",
        (thread_id, new_version, state, now, now, wake_at),
    )
    return new_version


class SQLiteLog(SQLiteCore, ThreadLog, WakeIndex):
    def _load(self, thread_id: str) -> tuple[str, int, float, float] | None:
        row = self.reader.execute(
            "SELECT state, version, created_at, updated_at FROM threads WHERE thread_id = ?", (thread_id,)
        ).fetchone()
        if row is None:
            return None
        return str(row[0]), int(row[1]), float(row[2]), float(row[3])

    async def load(self, thread_id: str) -> Snapshot | None:
        row = self._snapshot_cache.get_fresh(thread_id)
        if row is NO_SNAPSHOT:
            return None
        if row is None:
            row = await self._read(self._load, thread_id)
            if row is None:
                return None
            self._snapshot_cache.put(thread_id, row)
        state, version, created_at, updated_at = row
        return Snapshot(thread_id, from_json(state), version, created_at, updated_at)

    async def commit(
        self,
        thread_id: str,
        state: dict[str, Any],
        events: list[ThreadEvent],
        *,
        expected_version: int,
        now: float,
        wake_at: float | None,
    ) -> int:
        text, events = as_json(state), list(events)

        def settled(result: Any) -> None:
            if isinstance(result, Exception):
                self._snapshot_cache.pop(thread_id, None)
                return
            cached = self._snapshot_cache.get(thread_id)
            created_at = cached[2] if cached and cached is not NO_SNAPSHOT else now
            self._snapshot_cache.put(thread_id, (text, result, created_at, now))

        return await self._queued(
            lambda db: _write_commit(
                db, thread_id, text, events, expected_version, now, float(wake_at) if wake_at is not None else None
            ),
            thread_id=thread_id,
            settled=settled,
        )

    def _events(self, thread_id: str, after: int, limit: int) -> list[StoredEvent]:
        return stored_events(
            thread_id,
            self.reader.execute(
                f"SELECT {EVENT_COLUMNS} FROM events WHERE thread_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                (thread_id, after, limit),
            ).fetchall(),
        )

    async def events(self, thread_id: str, *, after: int = 0, limit: int = 1000) -> list[StoredEvent]:
        if self._nothing_stored(thread_id):
            return []
        return await self._read(self._events, thread_id, after, limit)

    def _tail(self, thread_id: str, kinds: tuple[str, ...], limit: int) -> list[StoredEvent]:
        marks = ", ".join("?" for _ in kinds)
        rows = self.reader.execute(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE thread_id = ? AND kind IN ({marks}) ORDER BY seq DESC LIMIT ?",
            (thread_id, *kinds, limit),
        ).fetchall()
        return stored_events(thread_id, reversed(rows))

    async def tail(self, thread_id: str, kinds: tuple[str, ...], limit: int) -> list[StoredEvent]:
        if not kinds or limit <= 0 or self._nothing_stored(thread_id):
            return []
        return await self._read(self._tail, thread_id, kinds, limit)

    def _turn_events(self, thread_id: str, message_id: str) -> list[StoredEvent]:
        row = self.reader.execute(
            "SELECT seq FROM events WHERE thread_id = ? AND message_id = ?", (thread_id, message_id)
        ).fetchone()
        if row is None:
            return []
        marks = ", ".join("?" for _ in INBOUND_KINDS)
        following = self.reader.execute(
            f"SELECT MIN(seq) FROM events WHERE thread_id = ? AND seq > ? AND kind IN ({marks})",
            (thread_id, row[0], *INBOUND_KINDS),
        ).fetchone()[0]
        return stored_events(
            thread_id,
            self.reader.execute(
                f"SELECT {EVENT_COLUMNS} FROM events WHERE thread_id = ? AND seq >= ? AND seq < ? ORDER BY seq",
                (thread_id, row[0], following if following is not None else LAST_SEQ),
            ).fetchall(),
        )

    def _nothing_stored(self, thread_id: str) -> bool:
        """A thread created here whose first turn has not committed: no read can find anything of it."""
        return self._snapshot_cache.get(thread_id) is NO_SNAPSHOT

    async def turn_events(self, thread_id: str, message_id: str) -> list[StoredEvent]:
        if self._nothing_stored(thread_id):
            return []
        return await self._read(self._turn_events, thread_id, message_id)

    def _has_message(self, thread_id: str, message_id: str) -> bool:
        return (
            self.reader.execute(
                "SELECT 1 FROM events WHERE thread_id = ? AND message_id = ?", (thread_id, message_id)
            ).fetchone()
            is not None
        )

    async def has_message(self, thread_id: str, message_id: str) -> bool:
        if self._nothing_stored(thread_id):
            return False
        return await self._read(self._has_message, thread_id, message_id)

    def _column(self, sql: str, *args: Any) -> list[Any]:
        return [row[0] for row in self.reader.execute(sql, args).fetchall()]

    async def thread_ids(self, *, after: str = "", limit: int = 1000) -> list[str]:
        return await self._read(
            self._column, "SELECT thread_id FROM threads WHERE thread_id > ? ORDER BY thread_id LIMIT ?", after, limit
        )

    # ------------------------------------------------------------------ the wake-up index

    async def due_threads(self, *, now: float, limit: int = 100) -> list[str]:
        return await self._read(
            self._column,
            "SELECT thread_id FROM threads WHERE wake_at IS NOT NULL AND wake_at <= ? ORDER BY wake_at LIMIT ?",
            now,
            limit,
        )

    async def next_wake(self) -> float | None:
        found = await self._read(self._column, "SELECT MIN(wake_at) FROM threads WHERE wake_at IS NOT NULL")
        return float(found[0]) if found and found[0] is not None else None

    async def wake_time(self, thread_id: str) -> float | None:
        found = await self._read(self._column, "SELECT wake_at FROM threads WHERE thread_id = ?", thread_id)
        return float(found[0]) if found and found[0] is not None else None
