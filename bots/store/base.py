"""The thread store's interfaces, one per job, and ThreadStore, which a backend implements whole.

A thread is an append-only event log plus a snapshot of the engine state,
versioned by the number of events (:class:`ThreadLog`). An identity table
maps (channel, channel user id) to a thread, so several identities can share
ONE thread (:class:`IdentityTable`). Code that needs one job asks for that
interface; the SQLite, PostgreSQL and Redis stores implement all of them, and
the lock is a separate seam so a cross-process lock can replace the
in-process one. How each backend keeps its promises: docs/stores.md.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractAsyncContextManager
from typing import Any

from bots.store.records import (
    TOKEN_GRACE_SECONDS,
    ConflictError,
    PendingInbound,
    SchemaTooNew,
    Snapshot,
    ThreadDump,
    new_thread_id,
)
from bots.types import Identity, InboxItem, StoredEvent, ThreadEvent

__all__ = [
    "TOKEN_GRACE_SECONDS",
    "ConflictError",
    "IdentityTable",
    "Maintenance",
    "PendingInbound",
    "RecordTable",
    "SchemaTooNew",
    "Snapshot",
    "ThreadDump",
    "ThreadLock",
    "ThreadLog",
    "ThreadStore",
    "TokenLedger",
    "WakeIndex",
    "WebhookInbox",
    "new_thread_id",
]


class ThreadLog(ABC):
    """Each thread's event log and the snapshot of its state, written together."""

    @abstractmethod
    async def load(self, thread_id: str) -> Snapshot | None: ...

    @abstractmethod
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
        """Append ``events`` and save ``state`` atomically; returns the new version.

        ``wake_at`` is when the thread next needs attention by itself (the
        state's earliest reminder), None when never: the :class:`WakeIndex`
        answers from it. Raises :class:`ConflictError` when the stored version
        is not ``expected_version`` (nothing is written then).

        Also refused, the same way: a commit to a thread merged into another
        one (:meth:`Maintenance.merged_into` knows it). Its log is gone, so
        only a commit at ``expected_version`` 0 can get that far; the check
        rides in the same transaction, statement or script, and only then. A
        safeguard for a new customer's turn, which skips reading the thread it
        made: the linker never folds in a thread with nothing committed and
        waits for its lock, but a worker that outlived its lock's lease could
        still merge it away, and that turn must not bring it back as a thread
        of its own.
        """

    @abstractmethod
    async def events(self, thread_id: str, *, after: int = 0, limit: int = 1000) -> list[StoredEvent]:
        """Events with ``seq > after`` in order, at most ``limit``."""

    @abstractmethod
    async def tail(self, thread_id: str, kinds: tuple[str, ...], limit: int) -> list[StoredEvent]:
        """The last ``limit`` events of these kinds, oldest first (e.g. a chat window's history)."""

    @abstractmethod
    async def turn_events(self, thread_id: str, message_id: str) -> list[StoredEvent]:
        """The events of the turn an inbound message or event started: from it up to the next inbound."""

    @abstractmethod
    async def has_message(self, thread_id: str, message_id: str) -> bool:
        """Whether an inbound message or event with this id is already in the thread (redelivery)."""

    @abstractmethod
    async def thread_ids(self, *, after: str = "", limit: int = 1000) -> list[str]:
        """Thread ids in order, for exports and migrations."""


class IdentityTable(ABC):
    """Which thread each (channel, user id) leads to."""

    @abstractmethod
    async def resolve_or_create(self, identity: Identity, *, now: float) -> tuple[str, bool]:
        """The thread of ``identity``, created (with the identity linked) when it has none yet; and whether
        this call created it (then nothing of it is stored yet, which spares a new customer's turn its reads)."""

    async def resolve(self, identity: Identity, *, now: float) -> str:
        return (await self.resolve_or_create(identity, now=now))[0]

    @abstractmethod
    async def find(self, identity: Identity) -> str | None: ...

    @abstractmethod
    async def link(self, identity: Identity, thread_id: str, *, now: float) -> None:
        """Point ``identity`` at ``thread_id`` (moving it off any other thread)."""

    @abstractmethod
    async def identities(self, thread_id: str) -> list[Identity]: ...


class WakeIndex(ABC):
    """Threads that need attention by themselves (a reminder is due), from the ``wake_at`` of their commits."""

    @abstractmethod
    async def due_threads(self, *, now: float, limit: int = 100) -> list[str]:
        """Threads whose ``wake_at`` is at or before ``now``, earliest first."""

    @abstractmethod
    async def next_wake(self) -> float | None:
        """The earliest ``wake_at`` of any thread, None when no thread waits for anything."""

    @abstractmethod
    async def wake_time(self, thread_id: str) -> float | None:
        """The ``wake_at`` of one thread, None when it waits for nothing (or is not there)."""


class TokenLedger(ABC):
    """Single-use link tokens already used."""

    @abstractmethod
    async def consume_token(self, nonce: str, *, expires_at: float, now: float, by: str = "") -> bool:
        """Mark a single-use token used by ``by``; False when someone else used it before (a replay).

        The same ``by`` using it again gets True: following one's own link a
        second time (a retry after a crash) must not be refused.
        """


class Maintenance(ABC):
    """Whole threads: one customer's two threads merged (see bots.linking.merge), forgotten, copied."""

    @abstractmethod
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
        """Replace ``into``'s log with ``events`` and its state with ``state``, and fold ``source`` into it.

        Atomically: ``source``'s identities move to ``into``, ``source``'s log
        and snapshot are deleted, and the merge is remembered so
        :meth:`merged_into` can redirect the old id. ``wake_at`` is the merged
        state's, as in :meth:`ThreadLog.commit`. Raises :class:`ConflictError`
        when either thread is not at its expected version (nothing is written
        then). Returns ``into``'s new version.
        """

    @abstractmethod
    async def merged_into(self, thread_id: str) -> str | None:
        """The thread a merged thread now lives in (following merges of merges), None if never merged."""

    async def current(self, thread_id: str) -> str:
        """Where a thread id lives now: itself, or the thread it was merged into (links, quoted ids)."""
        return await self.merged_into(thread_id) or thread_id

    @abstractmethod
    async def merged_sources(self, thread_id: str) -> list[str]:
        """The ids of threads merged into ``thread_id`` (directly or through merges of merges), sorted."""

    @abstractmethod
    async def delete_thread(self, thread_id: str) -> list[Identity]:
        """Delete everything about a thread: log, snapshot, identities, merge records and the webhook inbox items
        of its identities. Returns the identities it had (empty if there was no such thread)."""

    @abstractmethod
    async def export_thread(self, thread_id: str, *, page: int = 5000) -> ThreadDump | None:
        """The whole thread, None when there is none (read it under the thread's lock, or with writers stopped)."""

    @abstractmethod
    async def import_thread(self, dump: ThreadDump) -> None:
        """Write a thread copied from another store, atomically: snapshot (its version becomes the number of
        events), log, identities (in order), merge records and wake-up time. Raises :class:`ConflictError` if
        the thread exists here already (nothing is written then)."""


class WebhookInbox(ABC):
    """A durable inbox for webhooks (Messenger): items are stored before acknowledging, processed afterwards."""

    @abstractmethod
    async def enqueue_inbound(self, channel: str, items: list[InboxItem], *, now: float) -> list[int | None]:
        """Store items durably; one id per item, None where an item with its key was stored before."""

    @abstractmethod
    async def pending_inbound(self, channel: str, *, limit: int = 1000) -> list[PendingInbound]:
        """Stored items not processed yet, oldest first: what a restart must still process."""

    @abstractmethod
    async def finish_inbound(self, ids: list[int], *, now: float, keep_seconds: float = 3 * 86400) -> None:
        """Mark items processed; processed items older than ``keep_seconds`` are forgotten."""

    @abstractmethod
    async def delete_inbound_of(self, people: list[Identity]) -> int:
        """Delete every item (processed or not, of any channel) that concerns one of ``people``; how many."""

    @abstractmethod
    async def mark_sent(self, channel: str, key: str, turn: str, count: int) -> None:
        """Record that the first ``count`` replies of one turn of the item ``key`` went out (the highest count
        is kept), so that processing the item again after a crash resumes after them instead of sending them
        twice. ``turn`` tells the item's turns apart (the message id of the inbound that started it). Kept with
        the item and forgotten with it; nothing is recorded for an item that is not stored."""

    @abstractmethod
    async def sent_count(self, channel: str, key: str, turn: str) -> int:
        """How many replies of that turn :meth:`mark_sent` recorded as sent; 0 when none."""


class RecordTable(ABC):
    """Small JSON records by kind and key (agent accounts, the agent inbox's conversations): few enough per kind
    to list whole, and kept apart from threads so a flow or a channel never sees them."""

    @abstractmethod
    async def record(self, kind: str, key: str) -> dict[str, Any] | None: ...

    @abstractmethod
    async def records(self, kind: str) -> dict[str, dict[str, Any]]:
        """Every record of a kind, by key."""

    @abstractmethod
    async def put_record(self, kind: str, key: str, value: dict[str, Any]) -> None:
        """Store ``value`` under ``key``, replacing what was there."""

    @abstractmethod
    async def add_record(self, kind: str, key: str, value: dict[str, Any]) -> dict[str, Any]:
        """Store ``value`` unless a record is there already; returns the record kept (of racing workers, the
        first one's)."""

    @abstractmethod
    async def delete_record(self, kind: str, key: str) -> bool:
        """False when there was no such record."""


class ThreadLock(ABC):
    """Serialises work on one key (a thread or an identity); different keys run concurrently."""

    @abstractmethod
    def lock(self, key: str) -> AbstractAsyncContextManager[None]: ...


class ThreadStore(ThreadLog, IdentityTable, WakeIndex, TokenLedger, Maintenance, WebhookInbox, RecordTable):
    """Every interface over one database, plus its lifecycle and its thread lock."""

    @abstractmethod
    async def open(self) -> None:
        """Connect, and bring the schema up to date (safe when several workers start at once)."""

    @abstractmethod
    async def close(self) -> None:
        """Wait for queued writes, then release connections (the thread lock's too)."""

    @abstractmethod
    def thread_lock(self) -> ThreadLock:
        """The lock that serialises work on one thread for every process that uses this store.

        In arrival order; a lock held by a crashed process must come free by
        itself. Its resources are released by :meth:`close`.
        """

    async def export_thread(self, thread_id: str, *, page: int = 5000) -> ThreadDump | None:
        snapshot = await self.load(thread_id)
        if snapshot is None:
            return None
        events: list[ThreadEvent] = []
        while len(events) < snapshot.version:
            batch = await self.events(thread_id, after=len(events), limit=page)
            if not batch:
                break
            events.extend(stored.event for stored in batch)
        return ThreadDump(
            snapshot,
            events,
            await self.identities(thread_id),
            await self.merged_sources(thread_id),
            await self.wake_time(thread_id),
        )
