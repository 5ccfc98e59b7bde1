"""The PostgreSQL store's whole-thread operations: merging two threads, forgetting one, importing a copy."""

from __future__ import annotations

from typing import Any

import asyncpg

from bots.store.base import Maintenance
from bots.store.jsontext import as_json
from bots.store.postgres.core import PostgresCore, insert_events
from bots.store.postgres.inbox import delete_items_of
from bots.store.postgres.lock import refuse_if_lock_lost
from bots.store.postgres.schema import Db
from bots.store.records import ConflictError, ThreadDump
from bots.types import Identity, ThreadEvent

REMEMBER_MERGES = (
    "INSERT INTO thread_merges (source_id, into_id, merged_at) SELECT m.source, $1, $2 "
    "FROM unnest($3::text[]) AS m(source) ON CONFLICT (source_id) DO UPDATE "
    "SET into_id = excluded.into_id, merged_at = excluded.merged_at"
)


async def _save_snapshot(
    db: Db,
    thread_id: str,
    exists: bool,
    version: int,
    state: str,
    wake_at: float | None,
    now: float,
    created_at: float,
) -> None:
    """UPDATE a thread that was there, INSERT one that was not: two racing writers cannot both succeed, the
    second hits the primary key (an upsert would let it overwrite)."""
    if exists:
        await db.execute(
            "UPDATE threads SET version = $2, state = $3, updated_at = $4, wake_at = $5, "
            "created_at = $6 WHERE thread_id = $1",
            thread_id,
            version,
            state,
            now,
            wake_at,
            created_at,
        )
    else:
        await db.execute(
            "INSERT INTO threads (thread_id, version, state, created_at, updated_at, wake_at) "
            "VALUES ($1, $2, $3, $6, $4, $5)",
            thread_id,
            version,
            state,
            now,
            wake_at,
            created_at,
        )


class PostgresMaintenance(PostgresCore, Maintenance):
    async def merge_threads(
        self,
        into: str,
        source: str,
        events: list[ThreadEvent],
        state: dict[str, Any],
        *,
        expected_versions: tuple[int, int],
        now: float,
        wake_at: float | None,
    ) -> int:
        refuse_if_lock_lost()
        both = [into, source]
        try:
            async with self._db.acquire() as db, db.transaction():
                if into == source or await db.fetchval(
                    "SELECT EXISTS (SELECT 1 FROM thread_merges WHERE source_id = ANY($1::text[]))", both
                ):
                    raise ConflictError(f"cannot merge {source} into {into}: one of them was merged already")
                rows = {
                    row["thread_id"]: row
                    for row in await db.fetch(  # locked in one order: no deadlock
                        "SELECT thread_id, version, created_at FROM threads WHERE thread_id = ANY($1::text[]) "
                        "ORDER BY thread_id FOR UPDATE",
                        both,
                    )
                }
                for thread_id, expected in zip(both, expected_versions, strict=False):
                    version = int(rows[thread_id]["version"]) if thread_id in rows else 0
                    if version != expected:
                        raise ConflictError(f"thread {thread_id} is at version {version}, expected {expected}")
                created = min((float(row["created_at"]) for row in rows.values()), default=now)
                await db.execute("DELETE FROM events WHERE thread_id = ANY($1::text[])", both)
                await db.execute("DELETE FROM threads WHERE thread_id = $1", source)
                await _save_snapshot(
                    db,
                    into,
                    into in rows,
                    len(events),
                    as_json(state),
                    float(wake_at) if wake_at is not None else None,
                    now,
                    created,
                )
                await insert_events(db, into, 1, events)
                await db.execute("UPDATE identities SET thread_id = $1 WHERE thread_id = $2", into, source)
                # a thread merged before into the source now lives in ``into`` too
                await db.execute("UPDATE thread_merges SET into_id = $1 WHERE into_id = $2", into, source)
                await db.execute(REMEMBER_MERGES, into, now, [source])
        except asyncpg.UniqueViolationError as exc:
            raise ConflictError(f"cannot merge {source} into {into}: {exc}") from None
        return len(events)

    async def merged_into(self, thread_id: str) -> str | None:
        found = await self._db.fetchval("SELECT into_id FROM thread_merges WHERE source_id = $1", thread_id)
        return str(found) if found is not None else None

    async def merged_sources(self, thread_id: str) -> list[str]:
        return await self._column(
            "SELECT source_id FROM thread_merges WHERE into_id = $1 ORDER BY source_id", thread_id
        )

    async def delete_thread(self, thread_id: str) -> list[Identity]:
        async with self._db.acquire() as db, db.transaction():
            # threads merged into this one are part of it; their old ids must lead nowhere afterwards
            ids = [
                thread_id,
                *(
                    str(row[0])
                    for row in await db.fetch(
                        "SELECT source_id FROM thread_merges WHERE into_id = $1 ORDER BY source_id", thread_id
                    )
                ),
            ]
            identities = [
                Identity(row["channel"], row["user_id"])
                for row in await db.fetch(
                    "SELECT channel, user_id FROM identities WHERE thread_id = ANY($1::text[]) "
                    "ORDER BY created_at, channel, user_id",
                    ids,
                )
            ]
            await delete_items_of(db, identities)
            for table in ("events", "threads", "identities"):
                await db.execute(f"DELETE FROM {table} WHERE thread_id = ANY($1::text[])", ids)
            await db.execute(
                "DELETE FROM thread_merges WHERE source_id = ANY($1::text[]) OR into_id = ANY($1::text[])", ids
            )
        return identities

    async def import_thread(self, dump: ThreadDump) -> None:
        snapshot = dump.snapshot
        thread_id = snapshot.thread_id
        try:
            async with self._db.acquire() as db, db.transaction():
                if not await db.fetchval(
                    "INSERT INTO threads (thread_id, version, state, created_at, updated_at, wake_at) "
                    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (thread_id) DO NOTHING RETURNING true",
                    thread_id,
                    len(dump.events),
                    as_json(snapshot.state),
                    snapshot.created_at,
                    snapshot.updated_at,
                    dump.wake_at,
                ):
                    raise ConflictError(f"thread {thread_id} is already in this store")
                await insert_events(db, thread_id, 1, dump.events)
                await db.execute(
                    "INSERT INTO identities (channel, user_id, thread_id, created_at) SELECT i.channel, i.user_id, $1, "
                    "i.created_at FROM unnest($2::text[], $3::text[], $4::float8[]) AS i(channel, user_id, created_at) "
                    "ON CONFLICT (channel, user_id) DO UPDATE SET thread_id = excluded.thread_id",
                    thread_id,
                    [i.channel for i in dump.identities],
                    [i.user_id for i in dump.identities],
                    [snapshot.created_at + order * 1e-6 for order in range(len(dump.identities))],
                )  # keeps their order
                await db.execute(REMEMBER_MERGES, thread_id, snapshot.updated_at, list(dump.merged_from))
        except asyncpg.UniqueViolationError as exc:
            raise ConflictError(f"thread {thread_id}: {exc}") from None
