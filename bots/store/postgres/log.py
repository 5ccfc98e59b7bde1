"""The PostgreSQL store's thread log and snapshots, and the wake-up index kept beside each snapshot."""

from __future__ import annotations

from typing import Any

import asyncpg

from bots.store.base import ThreadLog, WakeIndex
from bots.store.jsontext import as_json, from_json
from bots.store.postgres.core import EVENT_COLUMNS, PostgresCore, event_arrays, stored_events
from bots.store.postgres.lock import refuse_if_lock_lost
from bots.store.records import ConflictError, Snapshot
from bots.types import INBOUND_KINDS, StoredEvent, ThreadEvent

LAST_SEQ = 2**63 - 1


class PostgresLog(PostgresCore, ThreadLog, WakeIndex):
    async def load(self, thread_id: str) -> Snapshot | None:
        row = await self._db.fetchrow(
            "SELECT state, version, created_at, updated_at FROM threads WHERE thread_id = $1", thread_id
        )
        if row is None:
            return None
        return Snapshot(
            thread_id, from_json(row["state"]), int(row["version"]), float(row["created_at"]), float(row["updated_at"])
        )

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
        refuse_if_lock_lost()
        try:  # one round trip: threadline_commit (schema.py) checks the version and writes
            return int(
                await self._db.fetchval(
                    "SELECT threadline_commit($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    thread_id,
                    expected_version,
                    as_json(state),
                    float(wake_at) if wake_at is not None else None,
                    now,
                    *event_arrays(events),
                )
            )
        except asyncpg.RaiseError as exc:  # the version or merge check in threadline_commit
            raise ConflictError(str(exc).removeprefix("threadline conflict: ")) from None
        except asyncpg.UniqueViolationError as exc:  # a redelivered inbound id, or a racing first commit
            raise ConflictError(f"thread {thread_id}: {exc}") from None

    async def events(self, thread_id: str, *, after: int = 0, limit: int = 1000) -> list[StoredEvent]:
        return stored_events(
            thread_id,
            await self._db.fetch(
                f"SELECT {EVENT_COLUMNS} FROM events WHERE thread_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                thread_id,
                after,
                limit,
            ),
        )

    async def tail(self, thread_id: str, kinds: tuple[str, ...], limit: int) -> list[StoredEvent]:
        if not kinds or limit <= 0:
            return []
        # the last ``limit`` of each kind from the (thread_id, kind, seq) index, then the last ``limit`` of those:
        # bounded however many events of other kinds the log holds
        rows = await self._db.fetch(
            f"SELECT e.* FROM unnest($2::text[]) AS k(kind) CROSS JOIN LATERAL (SELECT {EVENT_COLUMNS} FROM events "
            "WHERE events.thread_id = $1 AND events.kind = k.kind ORDER BY events.seq DESC LIMIT $3) AS e "
            "ORDER BY e.seq DESC LIMIT $3",
            thread_id,
            list(dict.fromkeys(kinds)),
            limit,
        )
        return stored_events(thread_id, reversed(rows))

    async def turn_events(self, thread_id: str, message_id: str) -> list[StoredEvent]:
        return stored_events(
            thread_id,
            await self._db.fetch(
                "WITH start AS (SELECT seq FROM events WHERE thread_id = $1 AND message_id = $2), "
                "stop AS (SELECT MIN(next.seq) AS seq FROM start, unnest($3::text[]) AS k(kind), LATERAL ("
                "  SELECT events.seq FROM events WHERE events.thread_id = $1 AND events.kind = k.kind "
                "  AND events.seq > start.seq ORDER BY events.seq LIMIT 1) AS next) "
                f"SELECT {EVENT_COLUMNS} FROM events WHERE thread_id = $1 AND seq >= (SELECT seq FROM start) "
                "AND seq < COALESCE((SELECT seq FROM stop), $4) ORDER BY seq",
                thread_id,
                message_id,
                list(INBOUND_KINDS),
                LAST_SEQ,
            ),
        )

    async def has_message(self, thread_id: str, message_id: str) -> bool:
        return bool(
            await self._db.fetchval(
                "SELECT EXISTS (SELECT 1 FROM events WHERE thread_id = $1 AND message_id = $2)", thread_id, message_id
            )
        )

    async def thread_ids(self, *, after: str = "", limit: int = 1000) -> list[str]:
        return await self._column(
            "SELECT thread_id FROM threads WHERE thread_id > $1 ORDER BY thread_id LIMIT $2", after, limit
        )

    # ------------------------------------------------------------------ the wake-up index

    async def due_threads(self, *, now: float, limit: int = 100) -> list[str]:
        return await self._column(
            "SELECT thread_id FROM threads WHERE wake_at IS NOT NULL AND wake_at <= $1 "
            "ORDER BY wake_at, thread_id LIMIT $2",
            now,
            limit,
        )

    async def next_wake(self) -> float | None:
        found = await self._db.fetchval("SELECT MIN(wake_at) FROM threads WHERE wake_at IS NOT NULL")
        return float(found) if found is not None else None

    async def wake_time(self, thread_id: str) -> float | None:
        found = await self._db.fetchval("SELECT wake_at FROM threads WHERE thread_id = $1", thread_id)
        return float(found) if found is not None else None
