"""A customer's right to their data: everything about their thread, handed over, and then forgotten.

A person may ask what a business keeps about them, or to be forgotten
(GDPR articles 15, 17 and 20). Their conversation is one thread with every
channel identity linked to it, so one thread id covers all of it: the
export is what the store holds, complete and machine-readable, and
forgetting returns that export so the business can give it to the person
before nothing of it is left.
"""

from __future__ import annotations

import time
from contextlib import AsyncExitStack
from typing import Any

from bots.store.base import ThreadLock, ThreadStore
from bots.threads.keys import identity_key, thread_key
from bots.types import Identity

PAGE = 1000


async def current_thread_id(store: ThreadStore, thread_id: str) -> str:
    """Where a thread's conversation lives now: a customer may quote an id from before two threads merged."""
    return await store.current(thread_id)


async def find_thread(store: ThreadStore, identity: Identity) -> str | None:
    """The thread a customer known on a channel is on, so they can be found by what they can tell us."""
    thread_id = await store.find(identity)
    return await store.current(thread_id) if thread_id is not None else None


async def export_thread(store: ThreadStore, thread_id: str, *, now: float | None = None) -> dict[str, Any] | None:
    """Everything the store holds about a thread, as JSON-ready data; None when there is no such thread.

    A thread whose first turn never committed still has identities: it is
    exported (empty) too, so those can be forgotten as well. Events are
    read up to the snapshot's version, so a turn committing meanwhile
    cannot make the export disagree with its own state.
    """
    thread_id = await store.current(thread_id)
    snapshot = await store.load(thread_id)
    identities = await store.identities(thread_id)
    if snapshot is None and not identities:
        return None
    version = snapshot.version if snapshot else 0
    events: list[dict[str, Any]] = []
    after = 0
    while after < version:
        page = await store.events(thread_id, after=after, limit=PAGE)
        if not page:
            break
        for stored in page:
            if stored.seq > version:
                break
            event = stored.event
            events.append(
                {
                    "seq": stored.seq,
                    "kind": event.kind,
                    "timestamp": event.timestamp,
                    "channel": event.channel,
                    "message_id": event.message_id,
                    "data": event.data,
                }
            )
        after = page[-1].seq
    return {
        "thread_id": thread_id,
        "version": version,
        "created_at": snapshot.created_at if snapshot else None,
        "updated_at": snapshot.updated_at if snapshot else None,
        "state": snapshot.state if snapshot else {},
        "identities": [{"channel": i.channel, "user_id": i.user_id} for i in identities],
        "events": events,
        "exported_at": time.time() if now is None else now,
    }


async def forget_thread(store: ThreadStore, locks: ThreadLock, thread_id: str, *, now: float) -> dict[str, Any] | None:
    """Delete a thread and everything linked to it; returns what it held (None when there was no such thread).

    The identities' locks are taken before the thread's, in the pipeline's
    order: a message arriving meanwhile waits, then starts a new thread,
    instead of writing into the one being deleted. The export is taken
    under the same locks, so it is exactly what was deleted.
    """
    for _attempt in range(10):
        wanted = await store.current(thread_id)
        identities = sorted(await store.identities(wanted), key=lambda i: (i.channel, i.user_id))
        async with AsyncExitStack() as held:
            for identity in identities:  # the key a turn locks first
                await held.enter_async_context(locks.lock(identity_key(identity)))
            await held.enter_async_context(locks.lock(thread_key(wanted)))
            # merged or re-linked while the locks were awaited: look again, so what is deleted is what was asked
            if (
                await store.current(thread_id) != wanted
                or sorted(await store.identities(wanted), key=lambda i: (i.channel, i.user_id)) != identities
            ):
                continue
            return await _export_and_delete(store, wanted, now)
    raise RuntimeError(f"thread {thread_id} kept changing; try again")


async def _export_and_delete(store: ThreadStore, thread_id: str, now: float) -> dict[str, Any] | None:
    """The caller holds the thread's and its identities' locks."""
    export = await export_thread(store, thread_id, now=now)
    if export is None:
        return None
    deleted = await store.delete_thread(thread_id)
    # an identity linked between reading them and locking is deleted too; the export names it
    known = {(i["channel"], i["user_id"]) for i in export["identities"]}
    export["identities"] += [
        {"channel": i.channel, "user_id": i.user_id} for i in deleted if (i.channel, i.user_id) not in known
    ]
    return export
