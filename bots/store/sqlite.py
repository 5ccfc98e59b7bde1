"""The embedded default store: one SQLite file in WAL mode, written by one process.

All SQLite calls run on two dedicated threads (one writer connection, one
reader connection), so the event loop never blocks on disk. Commits from
many threads are grouped: while one transaction is being written, the next
ones queue up and are written together in the following transaction, one
fsync for all of them. Every caller still gets its own result, and a
conflict in one thread's commit does not affect the others (savepoints).

Because this process is the file's only writer, identities and the latest
snapshots are also kept in bounded write-through caches: a message then
costs one trip to the SQLite threads (its commit) instead of three. Several
processes need the PostgreSQL or Redis stores, which do not cache.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, TypeVar

from bots.errors import UserError
from bots.store.local_lock import LocalThreadLock
from bots.store.base import (INBOUND_KINDS, INBOX_PERSON_PATHS, TOKEN_GRACE_SECONDS, ConflictError, Snapshot,
                              StoredEvent, ThreadDump, ThreadLock, ThreadStore,
                              new_thread_id)
from bots.types import Identity, ThreadEvent

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")
CACHED_IDENTITIES = 100_000
CACHED_SNAPSHOTS = 20_000


class _LRU(OrderedDict[K, V]):
    """A dict that forgets its least recently used entries beyond ``size``."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def get_fresh(self, key: K) -> V | None:
        value = self.get(key)
        if value is not None:
            self.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)

MIGRATIONS: list[str] = [
    # 1: threads, their event logs and the identities that lead to them
    """
    CREATE TABLE threads (
        thread_id  TEXT PRIMARY KEY,
        version    INTEGER NOT NULL,
        state      TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE TABLE events (
        thread_id  TEXT NOT NULL,
        seq        INTEGER NOT NULL,
        ts         REAL NOT NULL,
        kind       TEXT NOT NULL,
        channel    TEXT NOT NULL,
        message_id TEXT,
        data       TEXT NOT NULL,
        PRIMARY KEY (thread_id, seq)
    ) WITHOUT ROWID;
    CREATE UNIQUE INDEX events_message_id ON events (thread_id, message_id)
        WHERE message_id IS NOT NULL AND kind = 'user';
    CREATE TABLE identities (
        channel    TEXT NOT NULL,
        user_id    TEXT NOT NULL,
        thread_id  TEXT NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (channel, user_id)
    ) WITHOUT ROWID;
    CREATE INDEX identities_thread ON identities (thread_id);
    """,
    # 2: site events carry client ids too (a widget resends them after a reconnect): one unique index for
    #    every inbound event's id
    """
    DROP INDEX events_message_id;
    CREATE UNIQUE INDEX events_inbound_id ON events (thread_id, message_id) WHERE message_id IS NOT NULL;
    """,
    # 3: a durable inbox for webhooks: events are stored before the webhook is acknowledged, processed later,
    #    and a redelivered event (same key) is stored once
    """
    CREATE TABLE inbox (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        channel     TEXT NOT NULL,
        dedupe_key  TEXT NOT NULL,
        payload     TEXT NOT NULL,
        received_at REAL NOT NULL,
        done_at     REAL,
        UNIQUE (channel, dedupe_key)
    );
    CREATE INDEX inbox_pending ON inbox (channel, id) WHERE done_at IS NULL;
    """,
    # 4: when a thread next needs attention by itself (a reminder is due): copied from the state on commit
    """
    ALTER TABLE threads ADD COLUMN wake_at REAL;
    CREATE INDEX threads_wake_at ON threads (wake_at) WHERE wake_at IS NOT NULL;
    """,
    # 5: link tokens already used (single use), kept until they would have expired anyway
    """
    CREATE TABLE used_link_tokens (
        nonce      TEXT PRIMARY KEY,
        used_at    REAL NOT NULL,
        expires_at REAL NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX used_link_tokens_expiry ON used_link_tokens (expires_at);
    """,
    # 6: threads merged into another one (two threads of one customer linked): where a merged id now lives
    """
    CREATE TABLE thread_merges (
        source_id  TEXT PRIMARY KEY,
        into_id    TEXT NOT NULL,
        merged_at  REAL NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX thread_merges_into ON thread_merges (into_id);
    """,
    # 7: who used a link token, so the same person following it again (a retry after a crash) is not a replay
    """
    ALTER TABLE used_link_tokens ADD COLUMN used_by TEXT;
    """,
]


class SchemaTooNew(Exception):
    pass


@dataclass
class _PendingInbox:
    channel: str
    items: list[tuple[str, str]]
    now: float
    future: asyncio.Future[list[int | None]]


@dataclass
class _PendingCommit:
    thread_id: str
    state: str
    events: list[ThreadEvent]
    expected_version: int
    now: float
    future: asyncio.Future[int]
    wake_at: float | None = None


class SQLiteThreadStore(ThreadStore):
    def __init__(self, path: Path, *, synchronous: str = "FULL") -> None:
        self.path = path
        self.synchronous = synchronous
        self._writer_pool = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
        self._reader_pool = ThreadPoolExecutor(1, thread_name_prefix="sqlite-reader")
        self._writer: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None
        self._pending: list[_PendingCommit | _PendingInbox] = []
        self._flusher: asyncio.Task[None] | None = None
        self._writing: list[_PendingCommit | _PendingInbox] = []  # the batch being written now
        self._identity_cache: _LRU[Identity, str] = _LRU(CACHED_IDENTITIES)
        # thread id -> (state as JSON text, version, created_at, updated_at); text, so callers cannot alias it
        self._snapshot_cache: _LRU[str, tuple[str, int, float, float]] = _LRU(CACHED_SNAPSHOTS)

    # ------------------------------------------------------------------ lifecycle

    async def _on(self, pool: ThreadPoolExecutor, function: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(pool, function, *args)

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None, timeout=30)
        connection.execute("PRAGMA busy_timeout = 30000")
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute(f"PRAGMA synchronous = {self.synchronous}")
        return connection

    def _open_writer(self) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = self._connect()
        return self._migrate(self._writer)

    @staticmethod
    def _migrate(connection: sqlite3.Connection) -> int:
        current = connection.execute("PRAGMA user_version").fetchone()[0]
        if current > len(MIGRATIONS):
            raise SchemaTooNew(f"the store's schema version {current} is newer than this Threadline "
                               f"({len(MIGRATIONS)}); upgrade Threadline")
        for version in range(current, len(MIGRATIONS)):
            connection.execute("BEGIN IMMEDIATE")
            try:
                for statement in MIGRATIONS[version].split(";"):
                    if statement.strip():
                        connection.execute(statement)
                connection.execute(f"PRAGMA user_version = {version + 1}")
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        return len(MIGRATIONS)

    def _open_reader(self) -> None:
        self._reader = self._connect()

    async def open(self) -> None:
        try:
            await self._on(self._writer_pool, self._open_writer)
            await self._on(self._reader_pool, self._open_reader)
        except (OSError, sqlite3.Error, SchemaTooNew) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise UserError(f"store {self.path}: cannot open it: {reason}") from None

    async def close(self) -> None:
        while self._flusher is not None and not self._flusher.done():
            await asyncio.shield(self._flusher)
        for pool, connection in ((self._writer_pool, self._writer), (self._reader_pool, self._reader)):
            if connection is not None:
                await self._on(pool, connection.close)
        self._writer = self._reader = None
        self._writer_pool.shutdown(wait=True)
        self._reader_pool.shutdown(wait=True)

    def thread_lock(self) -> ThreadLock:
        # one process writes the file: an in-process lock is the whole story
        return LocalThreadLock()

    def schema_version(self) -> int:
        assert self._reader is not None
        return int(self._reader.execute("PRAGMA user_version").fetchone()[0])

    # ------------------------------------------------------------------ identities

    def _resolve(self, identity: Identity, now: float) -> str:
        assert self._writer is not None
        row = self._writer.execute("SELECT thread_id FROM identities WHERE channel = ? AND user_id = ?",
                                   (identity.channel, identity.user_id)).fetchone()
        if row:
            return str(row[0])
        self._writer.execute("INSERT OR IGNORE INTO identities (channel, user_id, thread_id, created_at) "
                             "VALUES (?, ?, ?, ?)", (identity.channel, identity.user_id, new_thread_id(), now))
        row = self._writer.execute("SELECT thread_id FROM identities WHERE channel = ? AND user_id = ?",
                                   (identity.channel, identity.user_id)).fetchone()
        return str(row[0])

    async def resolve(self, identity: Identity, *, now: float) -> str:
        found = await self.find(identity)
        if found is not None:
            return found
        thread_id = await self._on(self._writer_pool, self._resolve, identity, now)
        self._identity_cache.put(identity, thread_id)
        return thread_id

    def _find(self, identity: Identity) -> str | None:
        assert self._reader is not None
        row = self._reader.execute("SELECT thread_id FROM identities WHERE channel = ? AND user_id = ?",
                                   (identity.channel, identity.user_id)).fetchone()
        return str(row[0]) if row else None

    async def find(self, identity: Identity) -> str | None:
        cached = self._identity_cache.get_fresh(identity)
        if cached is not None:
            return cached
        found = await self._on(self._reader_pool, self._find, identity)
        if found is not None:
            self._identity_cache.put(identity, found)
        return found

    def _link(self, identity: Identity, thread_id: str, now: float) -> None:
        assert self._writer is not None
        self._writer.execute(
            "INSERT INTO identities (channel, user_id, thread_id, created_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (channel, user_id) DO UPDATE SET thread_id = excluded.thread_id",
            (identity.channel, identity.user_id, thread_id, now))

    async def link(self, identity: Identity, thread_id: str, *, now: float) -> None:
        self._identity_cache.pop(identity, None)
        await self._on(self._writer_pool, self._link, identity, thread_id, now)
        self._identity_cache.put(identity, thread_id)

    def _identities(self, thread_id: str) -> list[Identity]:
        assert self._reader is not None
        rows = self._reader.execute("SELECT channel, user_id FROM identities WHERE thread_id = ? "
                                    "ORDER BY created_at, channel, user_id", (thread_id,)).fetchall()
        return [Identity(channel, user_id) for channel, user_id in rows]

    async def identities(self, thread_id: str) -> list[Identity]:
        return await self._on(self._reader_pool, self._identities, thread_id)

    # ------------------------------------------------------------------ threads

    def _load(self, thread_id: str) -> tuple[str, int, float, float] | None:
        assert self._reader is not None
        row = self._reader.execute("SELECT state, version, created_at, updated_at FROM threads WHERE thread_id = ?",
                                   (thread_id,)).fetchone()
        if row is None:
            return None
        return str(row[0]), int(row[1]), float(row[2]), float(row[3])

    async def load(self, thread_id: str) -> Snapshot | None:
        row = self._snapshot_cache.get_fresh(thread_id)
        if row is None:
            row = await self._on(self._reader_pool, self._load, thread_id)
            if row is None:
                return None
            self._snapshot_cache.put(thread_id, row)
        state, version, created_at, updated_at = row
        return Snapshot(thread_id, json.loads(state), version, created_at, updated_at)

    async def commit(self, thread_id: str, state: dict[str, Any], events: list[ThreadEvent], *,
                     expected_version: int, now: float) -> int:
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        wake_at = state.get("wake_at")
        self._pending.append(_PendingCommit(thread_id, json.dumps(state, ensure_ascii=False, default=str),
                                            list(events), expected_version, now, future,
                                            float(wake_at) if wake_at is not None else None))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            self._writing = batch
            try:
                results = await self._on(self._writer_pool, self._write_batch, batch)
            except Exception as exc:  # the whole transaction failed: every caller learns it
                for item in batch:
                    if isinstance(item, _PendingCommit):
                        self._snapshot_cache.pop(item.thread_id, None)
                    if not item.future.done():
                        item.future.set_exception(exc)
                continue
            for item, result in zip(batch, results):
                if isinstance(item, _PendingInbox):
                    if not item.future.done():
                        if isinstance(result, Exception):
                            item.future.set_exception(result)
                        else:
                            item.future.set_result(result)  # type: ignore[arg-type]
                    continue
                if isinstance(result, Exception):
                    self._snapshot_cache.pop(item.thread_id, None)
                else:
                    cached = self._snapshot_cache.get(item.thread_id)
                    created_at = cached[2] if cached else item.now
                    self._snapshot_cache.put(item.thread_id, (item.state, result, created_at, item.now))
                if item.future.done():
                    continue
                if isinstance(result, Exception):
                    item.future.set_exception(result)
                else:
                    item.future.set_result(result)

    def _write_batch(self, batch: list[_PendingCommit | _PendingInbox]) -> list[Any]:
        db = self._writer
        assert db is not None
        results: list[Any] = []
        db.execute("BEGIN IMMEDIATE")
        try:
            for item in batch:
                db.execute("SAVEPOINT one_thread")
                try:
                    if isinstance(item, _PendingInbox):
                        results.append(self._insert_inbound(db, item.channel, item.items, item.now))
                    else:
                        results.append(self._write_one(db, item))
                    db.execute("RELEASE one_thread")
                except Exception as exc:  # this thread's write fails alone; the others in the batch go on
                    db.execute("ROLLBACK TO one_thread")
                    db.execute("RELEASE one_thread")
                    results.append(ConflictError(str(exc)) if isinstance(exc, sqlite3.IntegrityError) else exc)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return results

    @staticmethod
    def _write_one(db: sqlite3.Connection, item: _PendingCommit) -> int:
        row = db.execute("SELECT version FROM threads WHERE thread_id = ?", (item.thread_id,)).fetchone()
        version = int(row[0]) if row else 0
        if version != item.expected_version:
            raise ConflictError(f"thread {item.thread_id} is at version {version}, "
                                f"expected {item.expected_version}")
        rows = [
            (item.thread_id, version + offset, event.timestamp, event.kind, event.channel,
             event.message_id if event.kind in INBOUND_KINDS else None,
             json.dumps(event.data, ensure_ascii=False, default=str))
            for offset, event in enumerate(item.events, start=1)
        ]
        db.executemany("INSERT INTO events (thread_id, seq, ts, kind, channel, message_id, data) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        new_version = version + len(rows)
        db.execute("INSERT INTO threads (thread_id, version, state, created_at, updated_at, wake_at) "
                   "VALUES (?, ?, ?, ?, ?, ?) "
                   "ON CONFLICT (thread_id) DO UPDATE SET version = excluded.version, state = excluded.state, "
                   "updated_at = excluded.updated_at, wake_at = excluded.wake_at",
                   (item.thread_id, new_version, item.state, item.now, item.now, item.wake_at))
        return new_version

    def _events(self, thread_id: str, after: int, limit: int) -> list[StoredEvent]:
        assert self._reader is not None
        rows = self._reader.execute(
            "SELECT seq, ts, kind, channel, message_id, data FROM events WHERE thread_id = ? AND seq > ? "
            "ORDER BY seq LIMIT ?", (thread_id, after, limit)).fetchall()
        return [StoredEvent(thread_id, int(seq), ThreadEvent(kind, json.loads(data), float(ts), channel, message_id))
                for seq, ts, kind, channel, message_id, data in rows]

    async def events(self, thread_id: str, *, after: int = 0, limit: int = 1000) -> list[StoredEvent]:
        return await self._on(self._reader_pool, self._events, thread_id, after, limit)

    def _tail(self, thread_id: str, kinds: tuple[str, ...], limit: int) -> list[StoredEvent]:
        assert self._reader is not None
        marks = ", ".join("?" for _ in kinds)
        rows = self._reader.execute(
            f"SELECT seq, ts, kind, channel, message_id, data FROM events WHERE thread_id = ? AND kind IN ({marks}) "
            "ORDER BY seq DESC LIMIT ?", (thread_id, *kinds, limit)).fetchall()
        return [StoredEvent(thread_id, int(seq), ThreadEvent(kind, json.loads(data), float(ts), channel, message_id))
                for seq, ts, kind, channel, message_id, data in reversed(rows)]

    async def tail(self, thread_id: str, kinds: tuple[str, ...], limit: int) -> list[StoredEvent]:
        if not kinds or limit <= 0:
            return []
        return await self._on(self._reader_pool, self._tail, thread_id, kinds, limit)

    def _turn_events(self, thread_id: str, message_id: str) -> list[StoredEvent]:
        assert self._reader is not None
        row = self._reader.execute("SELECT seq FROM events WHERE thread_id = ? AND message_id = ?",
                                   (thread_id, message_id)).fetchone()
        if row is None:
            return []
        marks = ", ".join("?" for _ in INBOUND_KINDS)
        following = self._reader.execute(
            f"SELECT MIN(seq) FROM events WHERE thread_id = ? AND seq > ? AND kind IN ({marks})",
            (thread_id, row[0], *INBOUND_KINDS)).fetchone()[0]
        rows = self._reader.execute(
            "SELECT seq, ts, kind, channel, message_id, data FROM events WHERE thread_id = ? AND seq >= ? "
            "AND seq < ? ORDER BY seq", (thread_id, row[0], following if following is not None else 2 ** 62)).fetchall()
        return [StoredEvent(thread_id, int(seq), ThreadEvent(kind, json.loads(data), float(ts), channel, mid))
                for seq, ts, kind, channel, mid, data in rows]

    async def turn_events(self, thread_id: str, message_id: str) -> list[StoredEvent]:
        return await self._on(self._reader_pool, self._turn_events, thread_id, message_id)

    def _has_message(self, thread_id: str, message_id: str) -> bool:
        assert self._reader is not None
        row = self._reader.execute("SELECT 1 FROM events WHERE thread_id = ? AND message_id = ?",
                                   (thread_id, message_id)).fetchone()
        return row is not None

    async def has_message(self, thread_id: str, message_id: str) -> bool:
        return await self._on(self._reader_pool, self._has_message, thread_id, message_id)

    # ------------------------------------------------------------------ forgetting

    @staticmethod
    def _delete_inbox_of(db: sqlite3.Connection, identities: list[Identity]) -> int:
        tests: list[str] = []
        values: list[str] = []
        for channel, paths in INBOX_PERSON_PATHS.items():
            ids = [i.user_id for i in identities if i.channel == channel]
            if not ids:
                continue
            marks = ", ".join("?" for _ in ids)
            for path in ("$." + ".".join(steps) for steps in paths):  # CAST: an id Facebook sent as a number still matches the text identity
                tests.append(f"CAST(json_extract(payload, '{path}') AS TEXT) IN ({marks})")
                values.extend(ids)
        if not tests:
            return 0
        # CASE, not AND: SQLite does not promise to test json_valid first, and json_extract fails on bad JSON
        return db.execute(f"DELETE FROM inbox WHERE channel = 'messenger' AND "
                          f"CASE WHEN json_valid(payload) THEN ({' OR '.join(tests)}) ELSE 0 END", values).rowcount

    def _delete_thread(self, thread_id: str) -> tuple[list[Identity], list[str]]:
        db = self._writer
        assert db is not None
        db.execute("BEGIN IMMEDIATE")
        try:
            # threads merged into this one are part of it; their old ids must lead nowhere afterwards
            ids = [thread_id, *(str(row[0]) for row in db.execute(
                "SELECT source_id FROM thread_merges WHERE into_id = ? ORDER BY source_id", (thread_id,)))]
            marks = ", ".join("?" for _ in ids)
            identities = [Identity(str(channel), str(user_id)) for channel, user_id in db.execute(
                f"SELECT channel, user_id FROM identities WHERE thread_id IN ({marks}) "
                "ORDER BY created_at, channel, user_id", ids).fetchall()]
            self._delete_inbox_of(db, identities)
            db.execute(f"DELETE FROM events WHERE thread_id IN ({marks})", ids)
            db.execute(f"DELETE FROM threads WHERE thread_id IN ({marks})", ids)
            db.execute(f"DELETE FROM identities WHERE thread_id IN ({marks})", ids)
            db.execute(f"DELETE FROM thread_merges WHERE source_id IN ({marks}) OR into_id IN ({marks})", ids + ids)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return identities, ids

    async def delete_thread(self, thread_id: str) -> list[Identity]:
        await self._written(thread_id)
        try:
            identities, ids = await self._on(self._writer_pool, self._delete_thread, thread_id)
        finally:
            self._snapshot_cache.pop(thread_id, None)
        for gone in ids:
            self._snapshot_cache.pop(gone, None)
        for identity in identities:
            self._identity_cache.pop(identity, None)
        return identities

    # ------------------------------------------------------------------ inbox

    @staticmethod
    def _insert_inbound(db: sqlite3.Connection, channel: str, items: list[tuple[str, str]],
                        now: float) -> list[int | None]:
        ids: list[int | None] = []
        for key, payload in items:
            cursor = db.execute("INSERT OR IGNORE INTO inbox (channel, dedupe_key, payload, received_at) "
                                "VALUES (?, ?, ?, ?)", (channel, key, payload, now))
            ids.append(int(cursor.lastrowid) if cursor.rowcount else None)
        return ids

    async def enqueue_inbound(self, channel: str, items: list[tuple[str, str]], *, now: float) -> list[int | None]:
        # Goes through the group commit with the thread writes: one fsync for many webhooks under load.
        future: asyncio.Future[list[int | None]] = asyncio.get_running_loop().create_future()
        self._pending.append(_PendingInbox(channel, list(items), now, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await future

    def _pending_inbound(self, channel: str, limit: int) -> list[tuple[int, str]]:
        assert self._reader is not None
        rows = self._reader.execute("SELECT id, payload FROM inbox WHERE channel = ? AND done_at IS NULL "
                                    "ORDER BY id LIMIT ?", (channel, limit)).fetchall()
        return [(int(row[0]), str(row[1])) for row in rows]

    async def pending_inbound(self, channel: str, *, limit: int = 1000) -> list[tuple[int, str]]:
        return await self._on(self._reader_pool, self._pending_inbound, channel, limit)

    def _finish_inbound(self, ids: list[int], now: float, keep_seconds: float) -> None:
        db = self._writer
        assert db is not None
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany("UPDATE inbox SET done_at = ? WHERE id = ?", [(now, i) for i in ids])
            # done rows are kept a while: Facebook redelivers for up to a day and a half
            db.execute("DELETE FROM inbox WHERE done_at IS NOT NULL AND done_at < ?", (now - keep_seconds,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    async def finish_inbound(self, ids: list[int], *, now: float, keep_seconds: float = 3 * 86400) -> None:
        if ids:
            await self._on(self._writer_pool, self._finish_inbound, list(ids), now, keep_seconds)

    def _thread_ids(self, after: str, limit: int) -> list[str]:
        assert self._reader is not None
        rows = self._reader.execute("SELECT thread_id FROM threads WHERE thread_id > ? ORDER BY thread_id LIMIT ?",
                                    (after, limit)).fetchall()
        return [str(r[0]) for r in rows]

    async def thread_ids(self, *, after: str = "", limit: int = 1000) -> list[str]:
        return await self._on(self._reader_pool, self._thread_ids, after, limit)

    def _due_threads(self, now: float, limit: int) -> list[str]:
        assert self._reader is not None
        rows = self._reader.execute("SELECT thread_id FROM threads WHERE wake_at IS NOT NULL AND wake_at <= ? "
                                    "ORDER BY wake_at LIMIT ?", (now, limit)).fetchall()
        return [str(r[0]) for r in rows]

    async def due_threads(self, *, now: float, limit: int = 100) -> list[str]:
        return await self._on(self._reader_pool, self._due_threads, now, limit)

    def _next_wake(self) -> float | None:
        assert self._reader is not None
        row = self._reader.execute("SELECT MIN(wake_at) FROM threads WHERE wake_at IS NOT NULL").fetchone()
        return float(row[0]) if row and row[0] is not None else None

    async def next_wake(self) -> float | None:
        return await self._on(self._reader_pool, self._next_wake)

    def _consume_token(self, nonce: str, expires_at: float, now: float, by: str) -> bool:
        db = self._writer
        assert db is not None
        db.execute("BEGIN IMMEDIATE")
        try:
            # kept a while past expiry: a token's age is checked in whole seconds, and servers' clocks differ
            db.execute("DELETE FROM used_link_tokens WHERE expires_at < ?", (now - TOKEN_GRACE_SECONDS,))
            inserted = db.execute("INSERT OR IGNORE INTO used_link_tokens (nonce, used_at, expires_at, used_by) "
                                  "VALUES (?, ?, ?, ?)", (nonce, now, expires_at, by)).rowcount
            user = db.execute("SELECT used_by FROM used_link_tokens WHERE nonce = ?", (nonce,)).fetchone()
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return inserted == 1 or (bool(by) and user is not None and user[0] == by)

    async def consume_token(self, nonce: str, *, expires_at: float, now: float, by: str = "") -> bool:
        return await self._on(self._writer_pool, self._consume_token, nonce, expires_at, now, by)

    # ------------------------------------------------------------------ merging

    async def _written(self, *thread_ids: str) -> None:
        """Wait for the commits of these threads queued so far (not for the whole queue to drain, which never
        happens under steady traffic), so a late commit cannot bring a deleted or merged thread back."""
        waiting = [item.future for item in (*self._writing, *self._pending)
                   if isinstance(item, _PendingCommit) and item.thread_id in thread_ids and not item.future.done()]
        if waiting:
            await asyncio.gather(*waiting, return_exceptions=True)

    def _merge_threads(self, into: str, source: str, events: list[ThreadEvent], state: str, wake_at: float | None,
                       expected: tuple[int, int], now: float) -> tuple[int, list[Identity]]:
        db = self._writer
        assert db is not None
        db.execute("BEGIN IMMEDIATE")
        try:
            if into == source or db.execute("SELECT 1 FROM thread_merges WHERE source_id IN (?, ?)",
                                            (into, source)).fetchone():
                raise ConflictError(f"cannot merge {source} into {into}: one of them was merged already")
            for thread_id, version in zip((into, source), expected):
                row = db.execute("SELECT version FROM threads WHERE thread_id = ?", (thread_id,)).fetchone()
                if (int(row[0]) if row else 0) != version:
                    raise ConflictError(f"thread {thread_id} is at version {row[0] if row else 0}, expected {version}")
            created = db.execute("SELECT MIN(created_at) FROM threads WHERE thread_id IN (?, ?)",
                                 (into, source)).fetchone()[0]
            moved = [Identity(c, u) for c, u in db.execute(
                "SELECT channel, user_id FROM identities WHERE thread_id = ?", (source,)).fetchall()]
            db.execute("DELETE FROM events WHERE thread_id IN (?, ?)", (into, source))
            db.executemany("INSERT INTO events (thread_id, seq, ts, kind, channel, message_id, data) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?)",
                           [(into, seq, e.timestamp, e.kind, e.channel,
                             e.message_id if e.kind in INBOUND_KINDS else None,
                             json.dumps(e.data, ensure_ascii=False, default=str))
                            for seq, e in enumerate(events, start=1)])
            db.execute("DELETE FROM threads WHERE thread_id = ?", (source,))
            db.execute("INSERT INTO threads (thread_id, version, state, created_at, updated_at, wake_at) "
                       "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (thread_id) DO UPDATE SET version = excluded.version, "
                       "state = excluded.state, created_at = excluded.created_at, updated_at = excluded.updated_at, "
                       "wake_at = excluded.wake_at",
                       (into, len(events), state, created if created is not None else now, now, wake_at))
            db.execute("UPDATE identities SET thread_id = ? WHERE thread_id = ?", (into, source))
            # a thread merged before into the source now lives in ``into`` too
            db.execute("UPDATE thread_merges SET into_id = ? WHERE into_id = ?", (into, source))
            db.execute("INSERT OR REPLACE INTO thread_merges (source_id, into_id, merged_at) VALUES (?, ?, ?)",
                       (source, into, now))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return len(events), moved

    async def merge_threads(self, into: str, source: str, events: list[ThreadEvent], state: dict[str, Any], *,
                            expected_versions: tuple[int, int], now: float) -> int:
        await self._written(into, source)
        wake_at = state.get("wake_at")
        try:
            version, moved = await self._on(
                self._writer_pool, self._merge_threads, into, source, list(events),
                json.dumps(state, ensure_ascii=False, default=str),
                float(wake_at) if wake_at is not None else None, expected_versions, now)
        finally:
            self._snapshot_cache.pop(into, None)
            self._snapshot_cache.pop(source, None)
        for identity in moved:
            self._identity_cache.put(identity, into)
        return version

    def _merged_into(self, thread_id: str) -> str | None:
        assert self._reader is not None
        row = self._reader.execute("SELECT into_id FROM thread_merges WHERE source_id = ?", (thread_id,)).fetchone()
        return str(row[0]) if row else None

    async def merged_into(self, thread_id: str) -> str | None:
        return await self._on(self._reader_pool, self._merged_into, thread_id)

    def _merged_sources(self, thread_id: str) -> list[str]:
        assert self._reader is not None
        rows = self._reader.execute("SELECT source_id FROM thread_merges WHERE into_id = ? ORDER BY source_id",
                                    (thread_id,)).fetchall()
        return [str(row[0]) for row in rows]

    async def merged_sources(self, thread_id: str) -> list[str]:
        return await self._on(self._reader_pool, self._merged_sources, thread_id)

    # ------------------------------------------------------------------ copying between stores

    def _import_thread(self, dump: ThreadDump, state: str, wake_at: float | None) -> None:
        db = self._writer
        assert db is not None
        snapshot = dump.snapshot
        db.execute("BEGIN IMMEDIATE")
        try:
            if db.execute("SELECT 1 FROM threads WHERE thread_id = ?", (snapshot.thread_id,)).fetchone():
                raise ConflictError(f"thread {snapshot.thread_id} is already in this store")
            db.execute("INSERT INTO threads (thread_id, version, state, created_at, updated_at, wake_at) "
                       "VALUES (?, ?, ?, ?, ?, ?)", (snapshot.thread_id, len(dump.events), state,
                                                     snapshot.created_at, snapshot.updated_at, wake_at))
            db.executemany("INSERT INTO events (thread_id, seq, ts, kind, channel, message_id, data) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?)",
                           [(snapshot.thread_id, seq, e.timestamp, e.kind, e.channel,
                             e.message_id if e.kind in INBOUND_KINDS else None,
                             json.dumps(e.data, ensure_ascii=False, default=str))
                            for seq, e in enumerate(dump.events, start=1)])
            for order, identity in enumerate(dump.identities):
                db.execute("INSERT INTO identities (channel, user_id, thread_id, created_at) VALUES (?, ?, ?, ?) "
                           "ON CONFLICT (channel, user_id) DO UPDATE SET thread_id = excluded.thread_id",
                           (identity.channel, identity.user_id, snapshot.thread_id, snapshot.created_at + order * 1e-6))
            db.executemany("INSERT OR REPLACE INTO thread_merges (source_id, into_id, merged_at) VALUES (?, ?, ?)",
                           [(source, snapshot.thread_id, snapshot.updated_at) for source in dump.merged_from])
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    async def import_thread(self, dump: ThreadDump) -> None:
        wake_at = dump.snapshot.state.get("wake_at")
        await self._on(self._writer_pool, self._import_thread, dump,
                       json.dumps(dump.snapshot.state, ensure_ascii=False, default=str),
                       float(wake_at) if wake_at is not None else None)
        for identity in dump.identities:
            self._identity_cache.pop(identity, None)
