"""The thread store and thread lock seams.

A thread is an append-only event log plus a snapshot of the engine state,
versioned by the number of events. An identity table maps (channel,
channel user id) to a thread, so several identities can share ONE thread.
Stores for PostgreSQL and Redis implement this same interface; the lock is
a separate seam so a cross-process lock can replace the in-process one.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, AsyncContextManager

from bots.types import Identity, ThreadEvent


# A used link token is remembered this long past its expiry: a token's age is checked in whole seconds, and
# servers' clocks differ.
TOKEN_GRACE_SECONDS = 300
# The kinds of events that come from outside (their ids are unique per thread) and start a turn.
INBOUND_KINDS = ("user", "site_event", "receipt", "agent", "handover")
# Where a stored Messenger webhook item (connectors/messenger/parse.py) names its person, per identity
# channel: a PSID is the sender, or the recipient of an echo; a plugin user_ref has no PSID yet. Forgetting a
# thread deletes its people's unprocessed webhook items too.
INBOX_PERSON_PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
    "messenger": (("item", "sender", "id"), ("item", "recipient", "id")),
    "messenger_ref": (("item", "sender", "user_ref"), ("item", "optin", "user_ref"), ("item", "recipient", "user_ref")),
}


def new_thread_id() -> str:
    return "t_" + uuid.uuid4().hex


class ConflictError(Exception):
    """The thread changed since it was loaded: someone wrote without holding its lock."""


@dataclass(frozen=True)
class Snapshot:
    thread_id: str
    state: dict[str, Any]
    version: int  # number of events in the log; the next event gets seq version + 1
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class StoredEvent:
    thread_id: str
    seq: int
    event: ThreadEvent


@dataclass(frozen=True)
class ThreadDump:
    """Everything a thread is, for copying it to another store (``threadline migrate-store``)."""
    snapshot: Snapshot
    events: list[ThreadEvent]  # the whole log, seq 1..n
    identities: list[Identity]  # in the order they were linked
    merged_from: list[str]  # ids of threads merged into it, so their old ids still lead here


class ThreadStore(ABC):
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

    @abstractmethod
    async def resolve(self, identity: Identity, *, now: float) -> str:
        """The thread of ``identity``, created (with the identity linked) when it has none yet."""

    @abstractmethod
    async def find(self, identity: Identity) -> str | None: ...

    @abstractmethod
    async def link(self, identity: Identity, thread_id: str, *, now: float) -> None:
        """Point ``identity`` at ``thread_id`` (moving it off any other thread)."""

    @abstractmethod
    async def identities(self, thread_id: str) -> list[Identity]: ...

    @abstractmethod
    async def load(self, thread_id: str) -> Snapshot | None: ...

    @abstractmethod
    async def commit(self, thread_id: str, state: dict[str, Any], events: list[ThreadEvent], *,
                     expected_version: int, now: float) -> int:
        """Append ``events`` and save ``state`` atomically; returns the new version.

        Raises :class:`ConflictError` when the stored version is not
        ``expected_version`` (nothing is written then).
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

    # Threads that need attention by themselves: ``wake_at`` of the committed state (a reminder is due).

    @abstractmethod
    async def due_threads(self, *, now: float, limit: int = 100) -> list[str]:
        """Threads whose state's ``wake_at`` is at or before ``now``, earliest first."""

    @abstractmethod
    async def next_wake(self) -> float | None:
        """The earliest ``wake_at`` of any thread, None when no thread waits for anything."""

    @abstractmethod
    async def consume_token(self, nonce: str, *, expires_at: float, now: float, by: str = "") -> bool:
        """Mark a single-use token used by ``by``; False when someone else used it before (a replay).

        The same ``by`` using it again gets True: following one's own link a
        second time (a retry after a crash) must not be refused.
        """

    # One customer, two threads: merging them (see bots.linking.merge), and forgetting a thread.

    @abstractmethod
    async def merge_threads(self, into: str, source: str, events: list[ThreadEvent], state: dict[str, Any], *,
                            expected_versions: tuple[int, int], now: float) -> int:
        """Replace ``into``'s log with ``events`` and its state with ``state``, and fold ``source`` into it.

        Atomically: ``source``'s identities move to ``into``, ``source``'s log
        and snapshot are deleted, and the merge is remembered so
        :meth:`merged_into` can redirect the old id. Raises
        :class:`ConflictError` when either thread is not at its expected
        version (nothing is written then). Returns ``into``'s new version.
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
        """Delete everything about a thread: log, snapshot, identities, merge records and inbox items of its
        identities. Returns the identities it had (empty if there was no such thread)."""

    # Copying threads between stores.

    async def export_thread(self, thread_id: str, *, page: int = 5000) -> ThreadDump | None:
        """The whole thread, None when there is none (read it under the thread's lock, or with writers stopped)."""
        snapshot = await self.load(thread_id)
        if snapshot is None:
            return None
        events: list[ThreadEvent] = []
        while len(events) < snapshot.version:
            batch = await self.events(thread_id, after=len(events), limit=page)
            if not batch:
                break
            events.extend(stored.event for stored in batch)
        return ThreadDump(snapshot, events, await self.identities(thread_id), await self.merged_sources(thread_id))

    @abstractmethod
    async def import_thread(self, dump: ThreadDump) -> None:
        """Write a thread copied from another store, atomically: snapshot (its version becomes the number of
        events), log, identities (in order) and merge records. Raises :class:`ConflictError` if the thread
        exists here already (nothing is written then)."""

    # A durable inbox for webhooks (Messenger): stored before acknowledging, processed afterwards.

    @abstractmethod
    async def enqueue_inbound(self, channel: str, items: list[tuple[str, str]], *, now: float) -> list[int | None]:
        """Store (dedupe key, JSON payload) items durably; one id per item, None where it was stored before."""

    @abstractmethod
    async def pending_inbound(self, channel: str, *, limit: int = 1000) -> list[tuple[int, str]]:
        """Stored items not processed yet, oldest first: what a restart must still process."""

    @abstractmethod
    async def finish_inbound(self, ids: list[int], *, now: float, keep_seconds: float = 3 * 86400) -> None:
        """Mark items processed; processed items older than ``keep_seconds`` are forgotten."""


class ThreadLock(ABC):
    """Serialises work on one key (a thread or an identity); different keys run concurrently."""

    @abstractmethod
    def lock(self, key: str) -> AsyncContextManager[None]: ...
