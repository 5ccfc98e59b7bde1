"""The PostgreSQL thread lock: an advisory lock in a transaction of a connection of its own.

Granted first come, first served across processes; a holder that stops
(killed, frozen, cut off) loses it after at most the lease, and a lost lock
cannot corrupt a thread because every commit checks the version it loaded.
Why it is built this way: docs/stores.md.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import logging
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from bots.store.base import ThreadLock
from bots.store.local_lock import KeySlots
from bots.store.records import ConflictError

log = logging.getLogger(__name__)


def lock_id(key: str) -> int:
    """A lock key's advisory lock id: the same in every process and Python version, as a signed int64."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big", signed=True)


@dataclass(eq=False)
class _Held:
    key: str
    connection: asyncpg.Connection
    lost: bool = False
    released: asyncio.Event = field(default_factory=asyncio.Event)
    keeper: asyncio.Task[None] | None = None
    owner: asyncio.Task[Any] | None = None  # the task holding it: only it may lock more on this connection
    parent: _Held | None = None  # a lock taken on the connection of an outer one of the same task
    busy: asyncio.Lock = field(default_factory=asyncio.Lock)  # one statement at a time on the connection
    # nested locks released but not yet unlocked on the server: sent with the connection's next statement
    unlocks: list[int] = field(default_factory=list)

    @property
    def outermost(self) -> _Held:
        return self if self.parent is None else self.parent.outermost

    def with_unlocks(self, statement: str) -> str:
        """``statement`` after the unlocks owed (one round trip for both), which are then no longer owed."""
        owed, self.unlocks = self.unlocks, []
        return "; ".join([*(f"SELECT pg_advisory_unlock({owed_id})" for owed_id in owed), statement])


# the locks the current task holds, so a commit can refuse to write under a lock known to be lost
_HELD: contextvars.ContextVar[tuple[_Held, ...]] = contextvars.ContextVar("threadline_postgres_locks", default=())


def refuse_if_lock_lost() -> None:
    for held in _HELD.get():
        if held.outermost.lost or held.connection.is_closed():
            raise ConflictError(
                f"the lock on {held.key!r} was lost (its session ended): another worker may "
                "hold it, so nothing is written"
            )


class LockConnections:
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
        self._refuse_if_closed()  # not `if self.closed` here: the check below, after awaits, would look unreachable
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

    def _refuse_if_closed(self) -> None:
        if self.closed:
            raise RuntimeError("the store is closed")

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
    def __init__(self, connections: LockConnections, lease: float, waiters: int) -> None:
        self._connections, self.lease = connections, lease
        self._queue = KeySlots(waiters)
        # Session settings of a lock connection, set once per connection (it serves locks only): no lock wait or
        # statement may time out while waiting for a lock; an idle holder is cut off after the lease.
        self._settings = (
            "SET statement_timeout = 0; SET lock_timeout = 0; "
            f"SET idle_in_transaction_session_timeout = {max(1, round(lease * 1000))}"
        )
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
        if outer is not None and outer.outermost.unlocks:
            await self._pay_unlocks(outer.outermost)  # what it gave up is free before it waits for anything
        async with self._queue.slot(key):  # a place in the server's queue, given up once granted
            held = await (self._acquire_inside(outer, key) if outer is not None else self._acquire(key))
        held.owner = task
        token = _HELD.set((*_HELD.get(), held))
        try:
            yield
        finally:
            _HELD.reset(token)
            if held.parent is not None:
                self._release_inside(held)
            else:
                await self._release(held)

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

    async def _pay_unlocks(self, root: _Held) -> None:
        try:
            async with root.busy:
                await root.connection.execute(root.with_unlocks("SELECT 1"), timeout=self.lease)
        except Exception as exc:  # the outer release closes the connection: nothing stays locked
            self._lose(root, exc)

    @staticmethod
    def _release_inside(held: _Held) -> None:
        """Owed, not sent: the unlock goes with the connection's next statement (the keep-alive ping or the
        outer lock's release, which ends them all), or before its holder asks for another lock. A turn lets go
        of its thread's lock just before its identity's, so this saves a round trip a turn; a waiter on
        another worker is held up by no more than that, and never past the ping (a third of the lease)."""
        root = held.outermost
        if not root.lost and not root.connection.is_closed():
            root.unlocks.append(lock_id(held.key))

    def _lose(self, held: _Held, reason: object) -> None:
        if not held.lost and not self._connections.closed:
            log.warning(
                "lost the lock on %r (%s): another worker may hold it now; this holder's commits are refused",
                held.key,
                reason,
            )
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
                    await held.connection.execute(held.with_unlocks("SELECT 1"), timeout=self.lease)
            except Exception as exc:
                self._lose(held, exc)
                return

    async def _release(self, held: _Held) -> None:
        held.released.set()
        try:
            if held.keeper is not None:
                await held.keeper  # at most one ping in flight, itself bounded by the lease
            if not held.lost and not held.connection.is_closed():
                # ends the transaction (its lock); unlock_all: the nested locks' unlocks still owed
                held.unlocks.clear()
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
