"""The SQLite store's whole-thread operations: merging two threads, forgetting one, importing a copy."""

from __future__ import annotations

from typing import Any

from bots.store.base import Maintenance
from bots.store.jsontext import as_json
from bots.store.records import ConflictError, ThreadDump
from bots.store.sqlite.core import SQLiteCore, insert_events
from bots.store.sqlite.inbox import delete_items_of
from bots.types import Identity, ThreadEvent

SAVE_THREAD = (
    "INSERT INTO threads (thread_id, version, state, created_at, updated_at, wake_at) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (thread_id) DO UPDATE SET version = excluded.version, "
    "state = excluded.state, created_at = excluded.created_at, updated_at = excluded.updated_at, "
    "wake_at = excluded.wake_at"
)
LINK = (
    "INSERT INTO identities (channel, user_id, thread_id, created_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (channel, user_id) DO UPDATE SET thread_id = excluded.thread_id"
)


class SQLiteMaintenance(SQLiteCore, Maintenance):
    def _merge_threads(
        self,
        into: str,
        source: str,
        events: list[ThreadEvent],
        state: str,
        wake_at: float | None,
        expected: tuple[int, int],
        now: float,
    ) -> tuple[int, list[Identity]]:
        with self.transaction() as db:
            if (
                into == source
                or db.execute("SELECT 1 FROM thread_merges WHERE source_id IN (?, ?)", (into, source)).fetchone()
            ):
                raise ConflictError(f"cannot merge {source} into {into}: one of them was merged already")
            for thread_id, version in zip((into, source), expected, strict=False):
                row = db.execute("SELECT version FROM threads WHERE thread_id = ?", (thread_id,)).fetchone()
                if (int(row[0]) if row else 0) != version:
                    raise ConflictError(f"thread {thread_id} is at version {row[0] if row else 0}, expected {version}")
            created = db.execute(
                "SELECT MIN(created_at) FROM threads WHERE thread_id IN (?, ?)", (into, source)
            ).fetchone()[0]
            moved = [
                Identity(c, u)
                for c, u in db.execute(
                    "SELECT channel, user_id FROM identities WHERE thread_id = ?", (source,)
                ).fetchall()
            ]
            db.execute("DELETE FROM events WHERE thread_id IN (?, ?)", (into, source))
            insert_events(db, into, 1, events)
            db.execute("DELETE FROM threads WHERE thread_id = ?", (source,))
            db.execute(SAVE_THREAD, (into, len(events), state, created if created is not None else now, now, wake_at))
            db.execute("UPDATE identities SET thread_id = ? WHERE thread_id = ?", (into, source))
            # a thread merged before into the source now lives in ``into`` too
            db.execute("UPDATE thread_merges SET into_id = ? WHERE into_id = ?", (into, source))
            db.execute(
                "INSERT OR REPLACE INTO thread_merges (source_id, into_id, merged_at) VALUES (?, ?, ?)",
                (source, into, now),
            )
        return len(events), moved

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
        await self._written(into, source)
        try:
            version, moved = await self._write(
                self._merge_threads,
                into,
                source,
                list(events),
                as_json(state),
                float(wake_at) if wake_at is not None else None,
                expected_versions,
                now,
            )
        finally:
            self._snapshot_cache.pop(into, None)
            self._snapshot_cache.pop(source, None)
        for identity in moved:
            self._identity_cache.put(identity, into)
        return version

    def _merged_into(self, thread_id: str) -> str | None:
        row = self.reader.execute("SELECT into_id FROM thread_merges WHERE source_id = ?", (thread_id,)).fetchone()
        return str(row[0]) if row else None

    async def merged_into(self, thread_id: str) -> str | None:
        return await self._read(self._merged_into, thread_id)

    def _merged_sources(self, thread_id: str) -> list[str]:
        rows = self.reader.execute(
            "SELECT source_id FROM thread_merges WHERE into_id = ? ORDER BY source_id", (thread_id,)
        ).fetchall()
        return [str(row[0]) for row in rows]

    async def merged_sources(self, thread_id: str) -> list[str]:
        return await self._read(self._merged_sources, thread_id)

    # ------------------------------------------------------------------ forgetting

    def _delete_thread(self, thread_id: str) -> tuple[list[Identity], list[str]]:
        with self.transaction() as db:
            # threads merged into this one are part of it; their old ids must lead nowhere afterwards
            ids = [
                thread_id,
                *(
                    str(row[0])
                    for row in db.execute(
                        "SELECT source_id FROM thread_merges WHERE into_id = ? ORDER BY source_id", (thread_id,)
                    )
                ),
            ]
            marks = ", ".join("?" for _ in ids)
            identities = [
                Identity(str(channel), str(user_id))
                for channel, user_id in db.execute(
                    f"SELECT channel, user_id FROM identities WHERE thread_id IN ({marks}) "
                    "ORDER BY created_at, channel, user_id",
                    ids,
                ).fetchall()
            ]
            delete_items_of(db, identities)
            db.execute(f"DELETE FROM events WHERE thread_id IN ({marks})", ids)
            db.execute(f"DELETE FROM threads WHERE thread_id IN ({marks})", ids)
            db.execute(f"DELETE FROM identities WHERE thread_id IN ({marks})", ids)
            db.execute(f"DELETE FROM thread_merges WHERE source_id IN ({marks}) OR into_id IN ({marks})", ids + ids)
        return identities, ids

    async def delete_thread(self, thread_id: str) -> list[Identity]:
        await self._written(thread_id)
        try:
            identities, ids = await self._write(self._delete_thread, thread_id)
        finally:
            self._snapshot_cache.pop(thread_id, None)
        for gone in ids:
            self._snapshot_cache.pop(gone, None)
        for identity in identities:
            self._identity_cache.pop(identity, None)
        return identities

    # ------------------------------------------------------------------ copying between stores

    def _import_thread(self, dump: ThreadDump, state: str) -> None:
        snapshot = dump.snapshot
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM threads WHERE thread_id = ?", (snapshot.thread_id,)).fetchone():
                raise ConflictError(f"thread {snapshot.thread_id} is already in this store")
            db.execute(
                SAVE_THREAD,
                (snapshot.thread_id, len(dump.events), state, snapshot.created_at, snapshot.updated_at, dump.wake_at),
            )
            insert_events(db, snapshot.thread_id, 1, dump.events)
            db.executemany(
                LINK,
                [
                    (
                        identity.channel,
                        identity.user_id,
                        snapshot.thread_id,
                        snapshot.created_at + order * 1e-6,
                    )  # keeps their order
                    for order, identity in enumerate(dump.identities)
                ],
            )
            db.executemany(
                "INSERT OR REPLACE INTO thread_merges (source_id, into_id, merged_at) VALUES (?, ?, ?)",
                [(source, snapshot.thread_id, snapshot.updated_at) for source in dump.merged_from],
            )

    async def import_thread(self, dump: ThreadDump) -> None:
        await self._write(self._import_thread, dump, as_json(dump.snapshot.state))
        self._snapshot_cache.pop(dump.snapshot.thread_id, None)
        for identity in dump.identities:
            self._identity_cache.pop(identity, None)
