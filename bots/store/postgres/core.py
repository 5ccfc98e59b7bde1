"""What every part of the PostgreSQL store shares: its connection pool, its lock, and the event columns."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from bots.errors import UserError
from bots.store.jsontext import as_json, from_json
from bots.store.postgres.lock import LockConnections, PostgresThreadLock
from bots.store.postgres.options import keep_session, typed_options
from bots.store.postgres.schema import Db, migrate
from bots.store.records import SchemaTooNew
from bots.store.urls import redacted
from bots.types import INBOUND_KINDS, StoredEvent, ThreadEvent

EVENT_COLUMNS = "seq, ts, kind, channel, message_id, data"


def event_arrays(events: list[ThreadEvent]) -> tuple[list[float], list[str], list[str], list[str | None], list[str]]:
    """Timestamps, kinds, channels, message ids and data of events, one array each (one statement for all).
    Only inbound events keep their message id: those must be unique in a thread."""
    return (
        [float(e.timestamp) for e in events],
        [e.kind for e in events],
        [e.channel for e in events],
        [e.message_id if e.kind in INBOUND_KINDS else None for e in events],
        [as_json(e.data) for e in events],
    )


def stored_events(thread_id: str, rows: Iterable[asyncpg.Record]) -> list[StoredEvent]:
    return [
        StoredEvent(
            thread_id,
            int(row["seq"]),
            ThreadEvent(row["kind"], from_json(row["data"]), float(row["ts"]), row["channel"], row["message_id"]),
        )
        for row in rows
    ]


async def insert_events(db: Db, thread_id: str, first_seq: int, events: list[ThreadEvent]) -> None:
    """One statement however many events (unnest), so an import of a long log is one round trip."""
    if not events:
        return
    await db.execute(
        "INSERT INTO events (thread_id, seq, ts, kind, channel, message_id, data) SELECT $1, * FROM "
        "unnest($2::bigint[], $3::float8[], $4::text[], $5::text[], $6::text[], $7::text[])",
        thread_id,
        list(range(first_seq, first_seq + len(events))),
        *event_arrays(events),
    )


class PostgresCore:
    def __init__(self, url: str) -> None:
        self.shown = redacted(url)
        try:
            self._dsn, options = typed_options(url)
        except ValueError as exc:
            raise UserError(f"store {self.shown}: {exc}") from None
        self._password = urlsplit(url).password
        self._pool_max = int(options["pool_max"])
        self._pool: asyncpg.Pool | None = None
        self._lock_connections = LockConnections(self._dsn, int(options["lock_pool_max"]))
        self._lock = PostgresThreadLock(self._lock_connections, options["lock_lease"], int(options["lock_waiters"]))

    @property
    def _db(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError(f"store {self.shown} is not open")
        return self._pool

    def _reason(self, exc: BaseException) -> str:
        reason = str(exc) or type(exc).__name__
        return reason.replace(self._password, "***") if self._password else reason

    async def open(self) -> None:
        try:
            self._pool = await asyncpg.create_pool(self._dsn, min_size=1, max_size=self._pool_max, reset=keep_session)
        except Exception as exc:  # refused, unknown host, bad password or option, no such database
            raise UserError(f"store {self.shown}: cannot connect: {self._reason(exc)}") from None
        try:
            async with self._pool.acquire() as db:
                await migrate(db)
        except BaseException as exc:
            await self.close()
            if isinstance(exc, (SchemaTooNew, asyncpg.PostgresError)):
                raise UserError(
                    f"store {self.shown}: cannot bring its schema up to date: {self._reason(exc)}"
                ) from None
            raise

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()  # waits for the writes in flight
        await self._lock_connections.close()

    async def schema_version(self) -> int:
        return int(await self._db.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))

    async def _column(self, sql: str, *args: Any) -> list[Any]:
        return [row[0] for row in await self._db.fetch(sql, *args)]
