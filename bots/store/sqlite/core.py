"""What every part of the SQLite store shares: its two connections, the group commit and the caches.

All SQLite calls run on two dedicated threads (one writer connection, one
reader connection), so the event loop never blocks on disk. Writes queued
while a transaction is being written go together into the next one: one
fsync for all of them, each in a savepoint of its own so one failing does not
affect the others (docs/stores.md).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from bots.errors import UserError
from bots.store.jsontext import as_json, from_json
from bots.store.lru import LRU
from bots.store.records import ConflictError, SchemaTooNew
from bots.store.sqlite.schema import migrate
from bots.types import INBOUND_KINDS, Identity, StoredEvent, ThreadEvent

T = TypeVar("T")
CACHED_IDENTITIES = 100_000
CACHED_SNAPSHOTS = 20_000
EVENT_COLUMNS = "seq, ts, kind, channel, message_id, data"
# In the snapshot cache: a thread this process created that has nothing stored yet, so nothing reads a snapshot
# or events that cannot exist: a web visitor's hello and first turn (a thread made by `open_thread`), which the
# unit of work's `LockedThread(new=True)` does not cover. Never a stored row's value (versions start at 0).
NO_SNAPSHOT: tuple[str, int, float, float] = ("", -1, 0.0, 0.0)


@dataclass
class Queued:
    """A write waiting for the next group commit."""

    write: Callable[[sqlite3.Connection], Any]  # runs on the writer thread, in a savepoint of the batch
    future: asyncio.Future[Any]
    thread_id: str | None = None  # the thread a commit writes, so a merge or delete can wait for it
    settled: Callable[[Any], None] | None = None  # on the event loop, with the result or the exception


def event_rows(thread_id: str, first_seq: int, events: list[ThreadEvent]) -> list[tuple[Any, ...]]:
    """Rows of the events table; only inbound events keep their message id (the one that must be unique)."""
    return [
        (
            thread_id,
            seq,
            e.timestamp,
            e.kind,
            e.channel,
            e.message_id if e.kind in INBOUND_KINDS else None,
            as_json(e.data),
        )
        for seq, e in enumerate(events, start=first_seq)
    ]


def insert_events(db: sqlite3.Connection, thread_id: str, first_seq: int, events: list[ThreadEvent]) -> None:
    db.executemany(
        "INSERT INTO events (thread_id, seq, ts, kind, channel, message_id, data) VALUES (?, ?, ?, ?, ?, ?, ?)",
        event_rows(thread_id, first_seq, events),
    )


def stored_events(thread_id: str, rows: Any) -> list[StoredEvent]:
    return [
        StoredEvent(thread_id, int(seq), ThreadEvent(kind, from_json(data), float(ts), channel, message_id))
        for seq, ts, kind, channel, message_id, data in rows
    ]


class SQLiteCore:
    def __init__(self, path: Path, *, synchronous: str = "FULL") -> None:
        self.path = path
        self.synchronous = synchronous
        self._writer_pool = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
        self._reader_pool = ThreadPoolExecutor(1, thread_name_prefix="sqlite-reader")
        self._writer: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None
        self._pending: list[Queued] = []
        self._writing: list[Queued] = []  # the batch being written now
        self._flusher: asyncio.Task[None] | None = None
        # This process is the file's only writer, so identities and the latest snapshots are cached
        # write-through: a message then costs one trip to the SQLite threads (its commit) instead of three.
        self._identity_cache: LRU[Identity, str] = LRU(CACHED_IDENTITIES)
        # thread id -> (state as JSON text, version, created_at, updated_at); text, so callers cannot alias it
        self._snapshot_cache: LRU[str, tuple[str, int, float, float]] = LRU(CACHED_SNAPSHOTS)

    # ------------------------------------------------------------------ the two threads

    async def _on(self, pool: ThreadPoolExecutor, function: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(pool, function, *args)

    async def _read(self, function: Callable[..., T], *args: Any) -> T:
        return await self._on(self._reader_pool, function, *args)

    async def _write(self, function: Callable[..., T], *args: Any) -> T:
        return await self._on(self._writer_pool, function, *args)

    @property
    def reader(self) -> sqlite3.Connection:
        assert self._reader is not None, "the store is not open"
        return self._reader

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction on the writer connection (call it on the writer thread)."""
        db = self._writer
        assert db is not None, "the store is not open"
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    # ------------------------------------------------------------------ lifecycle

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None, timeout=30)
        connection.execute("PRAGMA busy_timeout = 30000")
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute(f"PRAGMA synchronous = {self.synchronous}")
        return connection

    def _open_writer(self) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = self._connect()
        return migrate(self._writer)

    def _open_reader(self) -> None:
        self._reader = self._connect()

    async def open(self) -> None:
        try:
            await self._write(self._open_writer)
            await self._read(self._open_reader)
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

    def schema_version(self) -> int:
        return int(self.reader.execute("PRAGMA user_version").fetchone()[0])

    # ------------------------------------------------------------------ the group commit

    async def _queued(
        self,
        write: Callable[[sqlite3.Connection], T],
        *,
        thread_id: str | None = None,
        settled: Callable[[Any], None] | None = None,
    ) -> T:
        """Run ``write`` in the next group commit; its result, or its exception."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending.append(Queued(write, future, thread_id, settled))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            self._writing = batch
            try:
                results = await self._write(self._write_batch, batch)
            except Exception as exc:  # the whole transaction failed: every caller learns it
                results = [exc] * len(batch)
            for item, result in zip(batch, results, strict=False):
                if item.settled is not None:
                    item.settled(result)
                if item.future.done():
                    continue
                if isinstance(result, Exception):
                    item.future.set_exception(result)
                else:
                    item.future.set_result(result)
            self._writing = []

    def _write_batch(self, batch: list[Queued]) -> list[Any]:
        results: list[Any] = []
        with self.transaction() as db:
            for item in batch:
                db.execute("SAVEPOINT one_write")
                try:
                    results.append(item.write(db))
                    db.execute("RELEASE one_write")
                except Exception as exc:  # this write fails alone; the others in the batch go on
                    db.execute("ROLLBACK TO one_write")
                    db.execute("RELEASE one_write")
                    results.append(ConflictError(str(exc)) if isinstance(exc, sqlite3.IntegrityError) else exc)
        return results

    async def _written(self, *thread_ids: str) -> None:
        """Wait for the commits of these threads queued so far (not for the whole queue to drain, which never
        happens under steady traffic), so a late commit cannot bring a deleted or merged thread back."""
        waiting = [
            item.future
            for item in (*self._writing, *self._pending)
            if item.thread_id in thread_ids and not item.future.done()
        ]
        if waiting:
            await asyncio.gather(*waiting, return_exceptions=True)
