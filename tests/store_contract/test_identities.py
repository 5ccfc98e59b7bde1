"""IdentityTable: which thread each (channel, user id) leads to."""

from __future__ import annotations

import asyncio
import time

from bots.store.base import IdentityTable
from bots.types import Identity


async def test_resolve_creates_once_and_find_agrees(store: IdentityTable) -> None:
    who = Identity("rest", "ana")
    assert await store.find(who) is None
    first = await store.resolve(who, now=1.0)
    assert first.startswith("t_")
    assert await store.resolve(who, now=2.0) == first
    assert await store.find(who) == first
    assert await store.identities(first) == [who]


async def test_threads_of_new_customers_are_numbered_in_the_order_they_came(store: IdentityTable) -> None:
    """Time-ordered ids put a new thread at the end of every index on thread ids (not on a random page)."""
    made = []
    for n in range(5):
        started = time.time_ns() // 1_000_000
        while time.time_ns() // 1_000_000 == started:  # the next millisecond: ids are ordered by it
            await asyncio.sleep(0)
        made.append(await store.resolve(Identity("rest", f"customer-{4 - n}"), now=1.0))
    assert made == sorted(made) and len(set(made)) == 5
    assert len({thread_id[2:14] for thread_id in made}) == 5  # the time part, then 32 random hex digits


async def test_concurrent_resolves_of_a_new_identity_agree(store: IdentityTable) -> None:
    who = Identity("rest", "racer")
    ids = await asyncio.gather(*(store.resolve(who, now=1.0) for _ in range(20)))
    assert len(set(ids)) == 1
    assert await store.identities(ids[0]) == [who]


async def test_exactly_one_resolve_says_it_created_the_thread(store: IdentityTable) -> None:
    """A turn trusts "created" to skip reading its thread: only the call that made it may say so, even in a race."""
    who = Identity("rest", "first-timer")
    answers = await asyncio.gather(*(store.resolve_or_create(who, now=1.0) for _ in range(20)))
    assert len({thread for thread, _ in answers}) == 1
    assert [created for _, created in answers].count(True) == 1
    assert await store.resolve_or_create(who, now=2.0) == (answers[0][0], False)
    other = Identity("messenger", "psid-9")
    await store.link(other, answers[0][0], now=3.0)
    assert await store.resolve_or_create(other, now=4.0) == (answers[0][0], False)


async def test_link_moves_an_identity_and_identities_are_in_creation_order(store: IdentityTable) -> None:
    web, messenger = Identity("web", "v1"), Identity("messenger", "psid-1")
    thread = await store.resolve(web, now=1.0)
    other = await store.resolve(messenger, now=2.0)
    assert other != thread
    await store.link(messenger, thread, now=3.0)
    assert await store.find(messenger) == thread
    assert await store.identities(thread) == [web, messenger]
    assert await store.identities(other) == []
    await store.link(Identity("web", "v2"), thread, now=4.0)  # a new identity straight onto a thread
    assert await store.identities(thread) == [web, messenger, Identity("web", "v2")]
