"""The shared store on PostgreSQL (asyncpg): several workers, on one machine or many, one database.

Tables and rules mirror the SQLite store (bots/store/sqlite.py); nothing is
cached, since other workers write too. State, event data and webhook payloads
are kept as TEXT: they come back exactly as written (and a webhook payload
need not be JSON at all), and the server never parses what it never queries.
Text keys compare as bytes (COLLATE "C"), so threads page in the same order
as in SQLite whatever the database's locale. Every statement is bounded: a
load reads one row, and the log is read through indexes with a LIMIT.

URL options, removed before the URL goes to asyncpg (any other option is
asyncpg's and libpq's; one they and the server do not know makes ``open``
fail with the server's message):

- ``pool_max`` (default 10): connections for reads and writes.
- ``lock_lease`` (default 30): seconds a frozen or cut-off lock holder keeps its lock at most.
- ``lock_pool_max`` (default 50): connections for locks, at most, per worker. A turn needs one however
  many locks it nests (its identity's, then its thread's): inner locks are taken on the outer lock's
  connection, as session-level advisory locks inside its transaction. So nobody holding a lock ever waits
  for a connection, and the budget cannot deadlock; a turn that finds none free waits for one. The
  server's ``max_connections`` must cover workers x (``lock_pool_max`` + ``pool_max`` + 5).
- ``lock_waiters`` (default 8): waiters for one key that one process lets wait in the server's queue.

The thread lock is ``pg_advisory_xact_lock(id)`` in a transaction of its own
connection; ``id`` is the first 8 bytes of the key's BLAKE2b hash (stable
across processes and Python versions, unlike ``hash()``). The transaction sets
``idle_in_transaction_session_timeout`` to the lease and a live holder pings
its connection every lease/3, so the server cuts off only a holder that
stopped: a frozen one (SIGSTOP, a machine cut off) after at most the lease, a
killed one as soon as the server sees its socket close; the lock then comes
free by itself. The server grants an advisory lock's waiters first come, first
served, so arrival order holds across processes as long as every waiter waits
in the server's queue. To bound connections, one process lets at most
``lock_waiters`` waiters per key wait there; later ones wait in-process (in
their order) for one of those to be granted, so a key costs a process at most
``lock_waiters`` + 1 connections however many requests for it pile up. Exact
arrival order is given up only beyond that depth. (Queueing every local waiter
behind an in-process lock, one in the server's queue at a time, would not do:
another process's waiter, queued on the server meanwhile, overtakes them all.)

Fencing: a lost lock cannot corrupt a thread, because the log's version is the
fencing token. A commit is conditional on the version its writer loaded under
the lock (``SELECT ... FOR UPDATE``, then compare): after a stale holder lost
its lock, whichever of the two commits second is refused with ConflictError
and writes nothing, so no one ever appends over a newer holder's events. Also,
a task whose lock is known lost (its connection died) has its commits refused
at once. This closes the race of Rasa's RedisLockStore (rasa issue #9213): a
ticket expired, two instances processed one conversation, and the
unconditional tracker save overwrote the other's events.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import json
import logging
import weakref
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Iterable
from urllib.parse import urlsplit

import asyncpg

from bots.errors import UserError
from bots.store.base import (INBOUND_KINDS, INBOX_PERSON_PATHS, TOKEN_GRACE_SECONDS, ConflictError, Snapshot,
                              StoredEvent, ThreadDump, ThreadLock, ThreadStore, new_thread_id)
from bots.types import Identity, ThreadEvent
from bots.store.local_lock import KeySlots
from bots.store.urls import redacted, split_options

log = logging.getLogger(__name__)

OPTIONS: dict[str, float] = {"pool_max": 10, "lock_lease": 30.0, "lock_pool_max": 50, "lock_waiters": 8}
MINIMUM: dict[str, float] = {"pool_max": 1, "lock_lease": 0.1, "lock_pool_max": 1, "lock_waiters": 1}
# pg_advisory_xact_lock(int, int) lives in a key space apart from the thread locks' bigint ids
MIGRATION_LOCK = (0x546C6E65, 1)
EVENT_COLUMNS = "seq, ts, kind, channel, message_id, data"
LAST_SEQ = 2 ** 63 - 1

MIGRATIONS: list[str] = [
    # 1: what SQLite's migrations 1-7 built. The (thread_id, kind, seq) index finds "the last N of these kinds"
    #    and "the next inbound" without scanning a long log; threadline_jsonb lets a delete look into inbox
    #    payloads that may not be JSON (PostgreSQL 15 has no IS JSON / pg_input_is_valid)
    """
    CREATE TABLE threads (
        thread_id  TEXT COLLATE "C" PRIMARY KEY,
        version    BIGINT NOT NULL,
        state      TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL,
        wake_at    DOUBLE PRECISION
    );
    CREATE INDEX threads_wake_at ON threads (wake_at) WHERE wake_at IS NOT NULL;
    CREATE TABLE events (
        thread_id  TEXT COLLATE "C" NOT NULL,
        seq        BIGINT NOT NULL,
        ts         DOUBLE PRECISION NOT NULL,
        kind       TEXT COLLATE "C" NOT NULL,
        channel    TEXT NOT NULL,
        message_id TEXT COLLATE "C",
        data       TEXT NOT NULL,
        PRIMARY KEY (thread_id, seq)
    );
    CREATE UNIQUE INDEX events_inbound_id ON events (thread_id, message_id) WHERE message_id IS NOT NULL;
    CREATE INDEX events_kind ON events (thread_id, kind, seq);
    CREATE TABLE identities (
        channel    TEXT COLLATE "C" NOT NULL,
        user_id    TEXT COLLATE "C" NOT NULL,
        thread_id  TEXT COLLATE "C" NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (channel, user_id)
    );
    CREATE INDEX identities_thread ON identities (thread_id, created_at);
    CREATE TABLE inbox (
        id          BIGSERIAL PRIMARY KEY,
        channel     TEXT COLLATE "C" NOT NULL,
        dedupe_key  TEXT COLLATE "C" NOT NULL,
        payload     TEXT NOT NULL,
        received_at DOUBLE PRECISION NOT NULL,
        done_at     DOUBLE PRECISION,
        UNIQUE (channel, dedupe_key)
    );
    CREATE INDEX inbox_pending ON inbox (channel, id) WHERE done_at IS NULL;
    CREATE INDEX inbox_done ON inbox (done_at) WHERE done_at IS NOT NULL;
    CREATE TABLE used_link_tokens (
        nonce      TEXT COLLATE "C" PRIMARY KEY,
        used_at    DOUBLE PRECISION NOT NULL,
        expires_at DOUBLE PRECISION NOT NULL,
        used_by    TEXT
    );
    CREATE INDEX used_link_tokens_expiry ON used_link_tokens (expires_at);
    CREATE TABLE thread_merges (
        source_id  TEXT COLLATE "C" PRIMARY KEY,
        into_id    TEXT COLLATE "C" NOT NULL,
        merged_at  DOUBLE PRECISION NOT NULL
    );
    CREATE INDEX thread_merges_into ON thread_merges (into_id);
    CREATE FUNCTION threadline_jsonb(payload TEXT) RETURNS JSONB
        LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
    BEGIN
        RETURN payload::jsonb;
    EXCEPTION WHEN others THEN
        RETURN NULL;
    END $$;
    """,
    # 2: a turn's commit in one round trip (it was five: begin, check, snapshot, events, commit); the rules
    #    are those of PostgresThreadStore.commit, which calls it
    """
    CREATE FUNCTION threadline_commit(p_thread TEXT, p_expected BIGINT, p_state TEXT, p_wake DOUBLE PRECISION,
                                      p_now DOUBLE PRECISION, p_ts DOUBLE PRECISION[], p_kinds TEXT[],
                                      p_channels TEXT[], p_ids TEXT[], p_data TEXT[]) RETURNS BIGINT
        LANGUAGE plpgsql AS $$
    DECLARE
        stored BIGINT;
        added INTEGER := COALESCE(array_length(p_kinds, 1), 0);
    BEGIN
        SELECT version INTO stored FROM threads WHERE thread_id = p_thread FOR UPDATE;
        IF COALESCE(stored, 0) <> p_expected THEN
            RAISE EXCEPTION 'threadline conflict: thread % is at version %, expected %',
                p_thread, COALESCE(stored, 0), p_expected;
        END IF;
        IF stored IS NULL THEN  -- an INSERT, not an upsert: of two racing first commits the second fails
            INSERT INTO threads (thread_id, version, state, created_at, updated_at, wake_at)
            VALUES (p_thread, p_expected + added, p_state, p_now, p_now, p_wake);
        ELSE
            UPDATE threads SET version = p_expected + added, state = p_state, updated_at = p_now, wake_at = p_wake
            WHERE thread_id = p_thread;
        END IF;
        IF added > 0 THEN
            INSERT INTO events (thread_id, seq, ts, kind, channel, message_id, data)
            SELECT p_thread, p_expected + i, p_ts[i], p_kinds[i], p_channels[i], p_ids[i], p_data[i]
            FROM generate_subscripts(p_kinds, 1) AS i;
        END IF;
        RETURN p_expected + added;
    END $$;
    """,
]


class SchemaTooNew(Exception):
    pass


def typed_options(url: str) -> tuple[str, dict[str, float]]:
    """(the URL for asyncpg, our options as numbers, defaults filled in); ValueError says what is wrong."""
    dsn, given = split_options(url)
    options = dict(OPTIONS)
    for key, value in given.items():
        if key not in OPTIONS:
            continue  # another store's option (prefix): nothing for PostgreSQL
        try:
            number = float(value) if key == "lock_lease" else int(value)
        except ValueError:
            raise ValueError(f"{key} must be a number, not {value!r}") from None
        if number < MINIMUM[key]:
            raise ValueError(f"{key} must be at least {MINIMUM[key]}, not {value}")
        options[key] = number
    return dsn, options


async def keep_session(connection: asyncpg.Connection) -> None:
    """What a pooled connection needs before its next use: only an unfinished transaction ended.

    asyncpg's default reset is a round trip of four statements (RESET ALL, unlock all advisory locks, CLOSE
    ALL, UNLISTEN *) after every use: half the round trips of a turn. Store connections change no session
    setting, hold no session lock, cursor or LISTEN (locks and the live bus have connections of their own).
    """
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")


def lock_id(key: str) -> int:
    """A lock key's advisory lock id: the same in every process and Python version, as a signed int64."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big", signed=True)


def _state(state: dict[str, Any]) -> tuple[str, float | None]:
    wake_at = state.get("wake_at")
    return json.dumps(state, ensure_ascii=False, default=str), float(wake_at) if wake_at is not None else None


def _stored(thread_id: str, rows: Iterable[asyncpg.Record]) -> list[StoredEvent]:
    return [StoredEvent(thread_id, int(row["seq"]), ThreadEvent(row["kind"], json.loads(row["data"]), float(row["ts"]),
                                                               row["channel"], row["message_id"]))
            for row in rows]


async def _insert_events(db: asyncpg.Connection, thread_id: str, first_seq: int, events: list[ThreadEvent]) -> None:
    """One statement however many events (unnest), so an import of a long log is one round trip."""
    if not events:
        return
    await db.execute(
        "INSERT INTO events (thread_id, seq, ts, kind, channel, message_id, data) SELECT $1, * FROM "
        "unnest($2::bigint[], $3::float8[], $4::text[], $5::text[], $6::text[], $7::text[])",
        thread_id, list(range(first_seq, first_seq + len(events))), [float(e.timestamp) for e in events],
        [e.kind for e in events], [e.channel for e in events],
        [e.message_id if e.kind in INBOUND_KINDS else None for e in events],  # only inbound ids must be unique
        [json.dumps(e.data, ensure_ascii=False, default=str) for e in events])


async def _save_snapshot(db: asyncpg.Connection, thread_id: str, exists: bool, version: int, state: str,
                         wake_at: float | None, now: float, created_at: float | None = None) -> None:
    """UPDATE a thread that was there, INSERT one that was not: two racing first commits cannot both
    succeed, the second hits the primary key (an upsert would let it overwrite)."""
    if exists:
        await db.execute("UPDATE threads SET version = $2, state = $3, updated_at = $4, wake_at = $5, "
                         "created_at = COALESCE($6::float8, created_at) WHERE thread_id = $1",
                         thread_id, version, state, now, wake_at, created_at)
    else:
        await db.execute("INSERT INTO threads (thread_id, version, state, created_at, updated_at, wake_at) "
                         "VALUES ($1, $2, $3, COALESCE($6::float8, $4::float8), $4::float8, $5)",
                         thread_id, version, state, now, wake_at, created_at)


async def _migrate(db: asyncpg.Connection) -> int:
    async with db.transaction():
        # several workers starting at once: one migrates, the others wait here and then find nothing to do
        await db.execute("SELECT pg_advisory_xact_lock($1, $2)", *MIGRATION_LOCK)
        await db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                         "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
        current = int(await db.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))
        if current > len(MIGRATIONS):
            raise SchemaTooNew(f"the store's schema version {current} is newer than this Threadline "
                               f"({len(MIGRATIONS)}); upgrade Threadline")
        for version in range(current + 1, len(MIGRATIONS) + 1):
            await db.execute(MIGRATIONS[version - 1])
            await db.execute("INSERT INTO schema_migrations (version) VALUES ($1)", version)
    return len(MIGRATIONS)


# ---------------------------------------------------------------------- the thread lock

@dataclass(eq=False)
class _Held:
    key: str
    connection: asyncpg.Connection
    lost: bool = False
    released: asyncio.Event = field(default_factory=asyncio.Event)
    keeper: asyncio.Task[None] | None = None
    owner: "asyncio.Task[Any] | None" = None  # the task holding it: only it may lock more on this connection
    parent: "_Held | None" = None  # a lock taken on the connection of an outer one of the same task
    busy: asyncio.Lock = field(default_factory=asyncio.Lock)  # one statement at a time on the connection

    @property
    def outermost(self) -> "_Held":
        return self if self.parent is None else self.parent.outermost


# the locks the current task holds, so a commit can refuse to write under a lock known to be lost
_HELD: contextvars.ContextVar[tuple[_Held, ...]] = contextvars.ContextVar("threadline_postgres_locks", default=())


def _refuse_if_lock_lost() -> None:
    for held in _HELD.get():
        if held.outermost.lost or held.connection.is_closed():
            raise ConflictError(f"the lock on {held.key!r} was lost (its session ended): another worker may "
                                "hold it, so nothing is written")


class _LockConnections:
    """At most ``limit`` connections for locks (idle ones reused): a task waits for one, first come first served.

    A task needs one however many locks it nests (the identity's, then its thread's; two threads while
    merging): the inner ones are taken on the outer one's connection, so no holder ever waits for a
    connection while holding one, and a full budget cannot deadlock.
    """

    def __init__(self, dsn: str, limit: int) -> None:
        self.dsn, self.closed = dsn, False
        self._slots = asyncio.Semaphore(limit)
        self._idle: list[asyncpg.Connection] = []
        self._busy: set[asyncpg.Connection] = set()

    async def take(self) -> asyncpg.Connection:
        if self.closed:
            raise RuntimeError("the store is closed")
        await self._slots.acquire()
        try:
            while self._idle:
                connection = self._idle.pop()
                if not connection.is_closed():
                    self._busy.add(connection)
                    return connection
            connection = await asyncpg.connect(self.dsn)
        except BaseException:
            self._slots.release()
            raise
        if self.closed:  # closed while connecting
            connection.terminate()
            self._slots.release()
            raise RuntimeError("the store is closed")
        self._busy.add(connection)
        return connection

    async def give_back(self, connection: asyncpg.Connection) -> None:
        self._busy.discard(connection)
        if self.closed or connection.is_closed():
            await _close_quietly(connection)
        else:
            self._idle.append(connection)
        self._slots.release()

    def discard(self, connection: asyncpg.Connection) -> None:
        """Close at once, whatever it is doing: the server drops its queued or granted lock with the socket."""
        if connection in self._busy:
            self._busy.discard(connection)
            self._slots.release()
        connection.terminate()

    async def close(self) -> None:
        self.closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            await _close_quietly(connection)
        for connection in list(self._busy):  # locks still held when the store closes come free now
            self.discard(connection)


async def _close_quietly(connection: asyncpg.Connection) -> None:
    try:
        await connection.close(timeout=5)
    except Exception:  # a broken connection: nothing to say goodbye to
        connection.terminate()


class PostgresThreadLock(ThreadLock):
    def __init__(self, connections: _LockConnections, lease: float, waiters: int) -> None:
        self._connections, self.lease = connections, lease
        self._queue = KeySlots(waiters)
        # no lock wait or statement may time out while waiting for a lock; an idle holder is cut off after the lease
        # Session settings of a lock connection, set once per connection (it serves locks only): no lock wait or
        # statement may time out while waiting for a lock; an idle holder is cut off after the lease.
        self._settings = ("SET statement_timeout = 0; SET lock_timeout = 0; "
                          f"SET idle_in_transaction_session_timeout = {max(1, round(lease * 1000))}")
        # PostgreSQL 14+: a waiter whose client is gone (killed, cancelled) leaves the queue within a second,
        # instead of being granted the lock first
        self._settings_14 = self._settings + "; SET client_connection_check_interval = 1000"
        self._configured: weakref.WeakSet[asyncpg.Connection] = weakref.WeakSet()

    def _acquiring(self, connection: asyncpg.Connection, key: str) -> str:
        """The transaction and the lock in one round trip (the id is an integer of ours, never user text)."""
        take = f"BEGIN; SELECT pg_advisory_xact_lock({lock_id(key)})"
        if connection in self._configured:
            return take
        settings = self._settings_14 if connection.get_server_version().major >= 14 else self._settings
        self._configured.add(connection)  # if this query fails, the connection is discarded anyway
        return f"{settings}; {take}"

    @asynccontextmanager
    async def lock(self, key: str) -> AsyncIterator[None]:
        task = asyncio.current_task()
        outer = next((h for h in reversed(_HELD.get()) if h.owner is task and not h.lost), None)
        async with self._queue.slot(key):  # a place in the server's queue, given up once granted
            held = await (self._acquire_inside(outer, key) if outer is not None else self._acquire(key))
        held.owner = task
        token = _HELD.set((*_HELD.get(), held))
        try:
            yield
        finally:
            _HELD.reset(token)
            await (self._release_inside(held) if held.parent is not None else self._release(held))

    async def _acquire(self, key: str) -> _Held:
        for attempt in (1, 2):
            connection = await self._connections.take()
            try:
                await connection.execute(self._acquiring(connection, key))
                break
            except (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError):
                # an idle connection the server or the network dropped: once more, on a new one
                self._connections.discard(connection)
                if attempt == 2:
                    raise
            except BaseException:  # cancelled or failed while queued: closing leaves nothing queued or held
                self._connections.discard(connection)
                raise
        held = _Held(key, connection)
        held.keeper = asyncio.create_task(self._keep(held))
        return held

    async def _acquire_inside(self, outer: _Held, key: str) -> _Held:
        """A lock nested in one this task holds, on the same connection and transaction: a session-level
        advisory lock, released by itself (and with everything else when the session ends)."""
        root = outer.outermost
        try:
            async with root.busy:
                await root.connection.execute(f"SELECT pg_advisory_lock({lock_id(key)})")
        except BaseException as exc:  # cancelled or failed while queued: the outer lock goes too
            self._lose(root, exc)
            self._connections.discard(root.connection)
            raise
        return _Held(key, root.connection, parent=root)

    async def _release_inside(self, held: _Held) -> None:
        root = held.outermost
        if root.lost or root.connection.is_closed():
            return
        try:
            async with root.busy:
                await root.connection.execute(f"SELECT pg_advisory_unlock({lock_id(held.key)})", timeout=self.lease)
        except Exception as exc:  # the outer release closes the connection: nothing stays locked
            self._lose(root, exc)

    def _lose(self, held: _Held, reason: object) -> None:
        if not held.lost and not self._connections.closed:
            log.warning("lost the lock on %r (%s): another worker may hold it now; this holder's commits are "
                        "refused", held.key, reason)
        held.lost = True

    async def _keep(self, held: _Held) -> None:
        """Ping the held lock's connection, so the server's idle timeout cuts off only a holder that stopped."""
        while True:
            try:
                await asyncio.wait_for(held.released.wait(), self.lease / 3)
                return
            except TimeoutError:
                pass
            if held.busy.locked():  # a nested lock is being waited for: the session is not idle
                continue
            try:
                async with held.busy:
                    await held.connection.execute("SELECT 1", timeout=self.lease)
            except Exception as exc:
                self._lose(held, exc)
                return

    async def _release(self, held: _Held) -> None:
        held.released.set()
        try:
            if held.keeper is not None:
                await held.keeper  # at most one ping in flight, itself bounded by the lease
            if not held.lost and not held.connection.is_closed():
                # ends the transaction (its lock); unlock_all in case a nested lock's unlock did not get through
                await held.connection.execute("ROLLBACK; SELECT pg_advisory_unlock_all()", timeout=self.lease)
                await self._connections.give_back(held.connection)
                return
            self._lose(held, "its connection was closed")
        except Exception as exc:
            self._lose(held, exc)
        except BaseException:  # cancelled while releasing: closing the connection releases the lock too
            self._connections.discard(held.connection)
            raise
        self._connections.discard(held.connection)


# ---------------------------------------------------------------------- the store

class PostgresThreadStore(ThreadStore):
    def __init__(self, url: str) -> None:
        self.shown = redacted(url)
        try:
            self._dsn, options = typed_options(url)
        except ValueError as exc:
            raise UserError(f"store {self.shown}: {exc}") from None
        self._password = urlsplit(url).password
        self._pool_max = int(options["pool_max"])
        self._pool: asyncpg.Pool | None = None
        self._lock_connections = _LockConnections(self._dsn, int(options["lock_pool_max"]))
        self._lock = PostgresThreadLock(self._lock_connections, options["lock_lease"], int(options["lock_waiters"]))

    # ------------------------------------------------------------------ lifecycle

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
                await _migrate(db)
        except BaseException as exc:
            await self.close()
            if isinstance(exc, (SchemaTooNew, asyncpg.PostgresError)):
                raise UserError(f"store {self.shown}: cannot bring its schema up to date: {self._reason(exc)}") \
                    from None
            raise

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()  # waits for the writes in flight
        await self._lock_connections.close()

    def thread_lock(self) -> ThreadLock:
        return self._lock

    async def schema_version(self) -> int:
        return int(await self._db.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))

    # ------------------------------------------------------------------ identities

    async def resolve(self, identity: Identity, *, now: float) -> str:
        while True:  # ON CONFLICT DO NOTHING: of racing workers one creates, the others find its thread
            found = await self.find(identity)
            if found is not None:
                return found
            created = await self._db.fetchval(
                "INSERT INTO identities (channel, user_id, thread_id, created_at) VALUES ($1, $2, $3, $4) "
                "ON CONFLICT (channel, user_id) DO NOTHING RETURNING thread_id",
                identity.channel, identity.user_id, new_thread_id(), now)
            if created is not None:
                return str(created)

    async def find(self, identity: Identity) -> str | None:
        found = await self._db.fetchval("SELECT thread_id FROM identities WHERE channel = $1 AND user_id = $2",
                                        identity.channel, identity.user_id)
        return str(found) if found is not None else None

    async def link(self, identity: Identity, thread_id: str, *, now: float) -> None:
        await self._db.execute(
            "INSERT INTO identities (channel, user_id, thread_id, created_at) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (channel, user_id) DO UPDATE SET thread_id = excluded.thread_id",
            identity.channel, identity.user_id, thread_id, now)

    async def identities(self, thread_id: str) -> list[Identity]:
        rows = await self._db.fetch("SELECT channel, user_id FROM identities WHERE thread_id = $1 "
                                    "ORDER BY created_at, channel, user_id", thread_id)
        return [Identity(row["channel"], row["user_id"]) for row in rows]

    # ------------------------------------------------------------------ threads

    async def load(self, thread_id: str) -> Snapshot | None:
        row = await self._db.fetchrow("SELECT state, version, created_at, updated_at FROM threads "
                                      "WHERE thread_id = $1", thread_id)
        if row is None:
            return None
        return Snapshot(thread_id, json.loads(row["state"]), int(row["version"]), float(row["created_at"]),
                        float(row["updated_at"]))

    async def commit(self, thread_id: str, state: dict[str, Any], events: list[ThreadEvent], *,
                     expected_version: int, now: float) -> int:
        _refuse_if_lock_lost()
        text, wake_at = _state(state)
        try:
            return int(await self._db.fetchval(
                "SELECT threadline_commit($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                thread_id, expected_version, text, wake_at, now, [float(e.timestamp) for e in events],
                [e.kind for e in events], [e.channel for e in events],
                [e.message_id if e.kind in INBOUND_KINDS else None for e in events],  # only inbound ids are unique
                [json.dumps(e.data, ensure_ascii=False, default=str) for e in events]))
        except asyncpg.RaiseError as exc:  # the version check in threadline_commit
            raise ConflictError(str(exc).removeprefix("threadline conflict: ")) from None
        except asyncpg.UniqueViolationError as exc:  # a redelivered inbound id, or a racing first commit
            raise ConflictError(f"thread {thread_id}: {exc}") from None

    async def events(self, thread_id: str, *, after: int = 0, limit: int = 1000) -> list[StoredEvent]:
        return _stored(thread_id, await self._db.fetch(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE thread_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            thread_id, after, limit))

    async def tail(self, thread_id: str, kinds: tuple[str, ...], limit: int) -> list[StoredEvent]:
        if not kinds or limit <= 0:
            return []
        # the last ``limit`` of each kind from the (thread_id, kind, seq) index, then the last ``limit`` of those:
        # bounded however many events of other kinds the log holds
        rows = await self._db.fetch(
            f"SELECT e.* FROM unnest($2::text[]) AS k(kind) CROSS JOIN LATERAL (SELECT {EVENT_COLUMNS} FROM events "
            "WHERE events.thread_id = $1 AND events.kind = k.kind ORDER BY events.seq DESC LIMIT $3) AS e "
            "ORDER BY e.seq DESC LIMIT $3", thread_id, list(dict.fromkeys(kinds)), limit)
        return _stored(thread_id, reversed(rows))

    async def turn_events(self, thread_id: str, message_id: str) -> list[StoredEvent]:
        return _stored(thread_id, await self._db.fetch(
            "WITH start AS (SELECT seq FROM events WHERE thread_id = $1 AND message_id = $2), "
            "stop AS (SELECT MIN(next.seq) AS seq FROM start, unnest($3::text[]) AS k(kind), LATERAL ("
            "  SELECT events.seq FROM events WHERE events.thread_id = $1 AND events.kind = k.kind "
            "  AND events.seq > start.seq ORDER BY events.seq LIMIT 1) AS next) "
            f"SELECT {EVENT_COLUMNS} FROM events WHERE thread_id = $1 AND seq >= (SELECT seq FROM start) "
            "AND seq < COALESCE((SELECT seq FROM stop), $4) ORDER BY seq",
            thread_id, message_id, list(INBOUND_KINDS), LAST_SEQ))

    async def has_message(self, thread_id: str, message_id: str) -> bool:
        return bool(await self._db.fetchval(
            "SELECT EXISTS (SELECT 1 FROM events WHERE thread_id = $1 AND message_id = $2)", thread_id, message_id))

    async def thread_ids(self, *, after: str = "", limit: int = 1000) -> list[str]:
        rows = await self._db.fetch("SELECT thread_id FROM threads WHERE thread_id > $1 ORDER BY thread_id LIMIT $2",
                                    after, limit)
        return [str(row[0]) for row in rows]

    async def due_threads(self, *, now: float, limit: int = 100) -> list[str]:
        rows = await self._db.fetch("SELECT thread_id FROM threads WHERE wake_at IS NOT NULL AND wake_at <= $1 "
                                    "ORDER BY wake_at, thread_id LIMIT $2", now, limit)
        return [str(row[0]) for row in rows]

    async def next_wake(self) -> float | None:
        found = await self._db.fetchval("SELECT MIN(wake_at) FROM threads WHERE wake_at IS NOT NULL")
        return float(found) if found is not None else None

    async def consume_token(self, nonce: str, *, expires_at: float, now: float, by: str = "") -> bool:
        async with self._db.acquire() as db, db.transaction():
            # kept a while past expiry: a token's age is checked in whole seconds, and servers' clocks differ
            await db.execute("DELETE FROM used_link_tokens WHERE expires_at < $1", now - TOKEN_GRACE_SECONDS)
            inserted = await db.fetchval("INSERT INTO used_link_tokens (nonce, used_at, expires_at, used_by) "
                                         "VALUES ($1, $2, $3, $4) ON CONFLICT (nonce) DO NOTHING RETURNING true",
                                         nonce, now, expires_at, by)
            user = await db.fetchval("SELECT used_by FROM used_link_tokens WHERE nonce = $1", nonce)
        return bool(inserted) or (bool(by) and user == by)

    # ------------------------------------------------------------------ merging

    async def merge_threads(self, into: str, source: str, events: list[ThreadEvent], state: dict[str, Any], *,
                            expected_versions: tuple[int, int], now: float) -> int:
        _refuse_if_lock_lost()
        text, wake_at = _state(state)
        both = [into, source]
        try:
            async with self._db.acquire() as db, db.transaction():
                if into == source or await db.fetchval(
                        "SELECT EXISTS (SELECT 1 FROM thread_merges WHERE source_id = ANY($1::text[]))", both):
                    raise ConflictError(f"cannot merge {source} into {into}: one of them was merged already")
                rows = {row["thread_id"]: row for row in await db.fetch(  # locked in one order: no deadlock
                    "SELECT thread_id, version, created_at FROM threads WHERE thread_id = ANY($1::text[]) "
                    "ORDER BY thread_id FOR UPDATE", both)}
                for thread_id, expected in zip(both, expected_versions):
                    version = int(rows[thread_id]["version"]) if thread_id in rows else 0
                    if version != expected:
                        raise ConflictError(f"thread {thread_id} is at version {version}, expected {expected}")
                created = min((float(row["created_at"]) for row in rows.values()), default=now)
                await db.execute("DELETE FROM events WHERE thread_id = ANY($1::text[])", both)
                await db.execute("DELETE FROM threads WHERE thread_id = $1", source)
                await _save_snapshot(db, into, into in rows, len(events), text, wake_at, now, created)
                await _insert_events(db, into, 1, events)
                await db.execute("UPDATE identities SET thread_id = $1 WHERE thread_id = $2", into, source)
                # a thread merged before into the source now lives in ``into`` too
                await db.execute("UPDATE thread_merges SET into_id = $1 WHERE into_id = $2", into, source)
                await db.execute("INSERT INTO thread_merges (source_id, into_id, merged_at) VALUES ($1, $2, $3) "
                                 "ON CONFLICT (source_id) DO UPDATE SET into_id = excluded.into_id, "
                                 "merged_at = excluded.merged_at", source, into, now)
        except asyncpg.UniqueViolationError as exc:
            raise ConflictError(f"cannot merge {source} into {into}: {exc}") from None
        return len(events)

    async def merged_into(self, thread_id: str) -> str | None:
        found = await self._db.fetchval("SELECT into_id FROM thread_merges WHERE source_id = $1", thread_id)
        return str(found) if found is not None else None

    async def merged_sources(self, thread_id: str) -> list[str]:
        rows = await self._db.fetch("SELECT source_id FROM thread_merges WHERE into_id = $1 ORDER BY source_id",
                                    thread_id)
        return [str(row[0]) for row in rows]

    # ------------------------------------------------------------------ forgetting

    @staticmethod
    async def _delete_inbox_of(db: asyncpg.Connection, identities: list[Identity]) -> None:
        tests: list[str] = []
        values: list[list[str]] = []
        for channel, paths in INBOX_PERSON_PATHS.items():
            ids = [i.user_id for i in identities if i.channel == channel]
            if not ids:
                continue
            values.append(ids)
            marker = len(values)
            for path in paths:  # #>> gives text: an id Facebook sent as a number still matches the text identity
                values.append(list(path))
                tests.append(f"payload #>> ${len(values)}::text[] = ANY(${marker}::text[])")
        if tests:
            # parsed once per row (MATERIALIZED); a payload that is not JSON parses to NULL and matches nothing
            await db.execute("WITH parsed AS MATERIALIZED (SELECT id, threadline_jsonb(payload) AS payload "
                             "FROM inbox WHERE channel = 'messenger') DELETE FROM inbox WHERE id IN "
                             f"(SELECT id FROM parsed WHERE {' OR '.join(tests)})", *values)

    async def delete_thread(self, thread_id: str) -> list[Identity]:
        async with self._db.acquire() as db, db.transaction():
            # threads merged into this one are part of it; their old ids must lead nowhere afterwards
            ids = [thread_id, *(str(row[0]) for row in await db.fetch(
                "SELECT source_id FROM thread_merges WHERE into_id = $1 ORDER BY source_id", thread_id))]
            identities = [Identity(row["channel"], row["user_id"]) for row in await db.fetch(
                "SELECT channel, user_id FROM identities WHERE thread_id = ANY($1::text[]) "
                "ORDER BY created_at, channel, user_id", ids)]
            await self._delete_inbox_of(db, identities)
            for table in ("events", "threads", "identities"):
                await db.execute(f"DELETE FROM {table} WHERE thread_id = ANY($1::text[])", ids)
            await db.execute("DELETE FROM thread_merges WHERE source_id = ANY($1::text[]) OR into_id = ANY($1::text[])",
                             ids)
        return identities

    # ------------------------------------------------------------------ the webhook inbox

    async def enqueue_inbound(self, channel: str, items: list[tuple[str, str]], *, now: float) -> list[int | None]:
        if not items:
            return []
        rows = await self._db.fetch(
            "INSERT INTO inbox (channel, dedupe_key, payload, received_at) SELECT $1, item.key, item.payload, $4 "
            "FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS item(key, payload, n) ORDER BY item.n "
            "ON CONFLICT (channel, dedupe_key) DO NOTHING RETURNING id, dedupe_key",
            channel, [key for key, _ in items], [payload for _, payload in items], now)
        ids = {row["dedupe_key"]: int(row["id"]) for row in rows}
        return [ids.pop(key, None) for key, _ in items]  # pop: a key twice in one batch is stored once

    async def pending_inbound(self, channel: str, *, limit: int = 1000) -> list[tuple[int, str]]:
        rows = await self._db.fetch("SELECT id, payload FROM inbox WHERE channel = $1 AND done_at IS NULL "
                                    "ORDER BY id LIMIT $2", channel, limit)
        return [(int(row["id"]), str(row["payload"])) for row in rows]

    async def finish_inbound(self, ids: list[int], *, now: float, keep_seconds: float = 3 * 86400) -> None:
        if not ids:
            return
        async with self._db.acquire() as db, db.transaction():
            await db.execute("UPDATE inbox SET done_at = $1 WHERE id = ANY($2::bigint[])", now, list(ids))
            # done rows are kept a while: Facebook redelivers for up to a day and a half
            await db.execute("DELETE FROM inbox WHERE done_at IS NOT NULL AND done_at < $1", now - keep_seconds)

    # ------------------------------------------------------------------ copying between stores

    async def import_thread(self, dump: ThreadDump) -> None:
        snapshot = dump.snapshot
        thread_id = snapshot.thread_id
        text, wake_at = _state(snapshot.state)
        try:
            async with self._db.acquire() as db, db.transaction():
                if not await db.fetchval(
                        "INSERT INTO threads (thread_id, version, state, created_at, updated_at, wake_at) "
                        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (thread_id) DO NOTHING RETURNING true",
                        thread_id, len(dump.events), text, snapshot.created_at, snapshot.updated_at, wake_at):
                    raise ConflictError(f"thread {thread_id} is already in this store")
                await _insert_events(db, thread_id, 1, dump.events)
                await db.execute(
                    "INSERT INTO identities (channel, user_id, thread_id, created_at) SELECT i.channel, i.user_id, $1, "
                    "i.created_at FROM unnest($2::text[], $3::text[], $4::float8[]) AS i(channel, user_id, created_at) "
                    "ON CONFLICT (channel, user_id) DO UPDATE SET thread_id = excluded.thread_id",
                    thread_id, [i.channel for i in dump.identities], [i.user_id for i in dump.identities],
                    [snapshot.created_at + order * 1e-6 for order in range(len(dump.identities))])  # keeps their order
                await db.execute(
                    "INSERT INTO thread_merges (source_id, into_id, merged_at) SELECT m.source, $1, $2 "
                    "FROM unnest($3::text[]) AS m(source) ON CONFLICT (source_id) DO UPDATE "
                    "SET into_id = excluded.into_id, merged_at = excluded.merged_at",
                    thread_id, snapshot.updated_at, list(dump.merged_from))
        except asyncpg.UniqueViolationError as exc:
            raise ConflictError(f"thread {thread_id}: {exc}") from None
