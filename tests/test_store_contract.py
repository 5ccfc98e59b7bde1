"""The thread store contract: every backend (SQLite, PostgreSQL, Redis) behaves the same.

Each test runs three times, against a fresh embedded SQLite file, a fresh
database on a real PostgreSQL server and an emptied database on a real Redis
server (tests/servers.py starts both on loopback).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bots.store.base import TOKEN_GRACE_SECONDS, ConflictError, ThreadStore
from bots.store.factory import open_store
from bots.store.local_lock import LocalThreadLock
from bots.types import Identity, ThreadEvent


def event(kind: str, n: int, message_id: str | None = None, channel: str = "rest") -> ThreadEvent:
    return ThreadEvent(kind, {"n": n, "text": f"héllo {n} 👟", "nested": {"list": [1, "ü", None]}},
                       100.0 + n, channel, message_id)


@pytest.fixture
async def store(store_url: str, tmp_path: Path) -> AsyncIterator[ThreadStore]:
    store = open_store(store_url, tmp_path)
    await store.open()
    yield store
    await store.close()


async def reopen(store: ThreadStore, store_url: str, tmp_path: Path) -> ThreadStore:
    await store.close()
    again = open_store(store_url, tmp_path)
    await again.open()
    return again


# ---------------------------------------------------------------------- identities

async def test_resolve_creates_once_and_find_agrees(store: ThreadStore) -> None:
    who = Identity("rest", "ana")
    assert await store.find(who) is None
    first = await store.resolve(who, now=1.0)
    assert first.startswith("t_")
    assert await store.resolve(who, now=2.0) == first
    assert await store.find(who) == first
    assert await store.identities(first) == [who]


async def test_concurrent_resolves_of_a_new_identity_agree(store: ThreadStore) -> None:
    who = Identity("rest", "racer")
    ids = await asyncio.gather(*(store.resolve(who, now=1.0) for _ in range(20)))
    assert len(set(ids)) == 1
    assert await store.identities(ids[0]) == [who]


async def test_link_moves_an_identity_and_identities_are_in_creation_order(store: ThreadStore) -> None:
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


# ---------------------------------------------------------------------- the log and the snapshot

async def test_commit_appends_in_order_and_versions(store: ThreadStore) -> None:
    assert await store.load("t1") is None
    assert await store.commit("t1", {"a": 1}, [event("user", 1), event("bot", 2)], expected_version=0, now=5.0) == 2
    assert await store.commit("t1", {"a": 2, "ü": ["👟"]}, [event("user", 3)], expected_version=2, now=6.0) == 3
    snapshot = await store.load("t1")
    assert snapshot is not None and snapshot.state == {"a": 2, "ü": ["👟"]} and snapshot.version == 3
    assert snapshot.created_at == 5.0 and snapshot.updated_at == 6.0
    stored = await store.events("t1")
    assert [(e.seq, e.event.kind, e.event.data["n"]) for e in stored] == [(1, "user", 1), (2, "bot", 2), (3, "user", 3)]
    assert stored[0].event == event("user", 1)
    assert [e.seq for e in await store.events("t1", after=1, limit=1)] == [2]
    assert await store.events("t1", after=3) == [] and await store.events("nope") == []


async def test_a_commit_without_events_saves_the_state(store: ThreadStore) -> None:
    await store.commit("t1", {"a": 1}, [event("user", 1)], expected_version=0, now=1.0)
    assert await store.commit("t1", {"a": 2}, [], expected_version=1, now=2.0) == 1
    snapshot = await store.load("t1")
    assert snapshot is not None and snapshot.state == {"a": 2} and snapshot.version == 1


async def test_stale_commit_is_refused_and_writes_nothing(store: ThreadStore) -> None:
    await store.commit("t1", {"a": 1}, [event("user", 1)], expected_version=0, now=1.0)
    with pytest.raises(ConflictError):
        await store.commit("t1", {"a": "stale"}, [event("user", 99)], expected_version=0, now=2.0)
    with pytest.raises(ConflictError):
        await store.commit("t2", {"a": "stale"}, [event("user", 99)], expected_version=3, now=2.0)
    snapshot = await store.load("t1")
    assert snapshot is not None and snapshot.state == {"a": 1}
    assert [e.event.data["n"] for e in await store.events("t1")] == [1]
    assert await store.load("t2") is None


async def test_a_conflict_does_not_affect_other_threads(store: ThreadStore) -> None:
    await store.commit("t1", {}, [event("user", 1)], expected_version=0, now=1.0)
    results = await asyncio.gather(
        store.commit("t1", {}, [event("user", 2)], expected_version=0, now=2.0),  # stale
        *(store.commit(f"other{i}", {"i": i}, [event("user", i)], expected_version=0, now=2.0) for i in range(10)),
        return_exceptions=True,
    )
    assert isinstance(results[0], ConflictError)
    assert results[1:] == [1] * 10
    assert len(await store.thread_ids()) == 11


async def test_duplicate_inbound_id_is_detected_and_refused(store: ThreadStore) -> None:
    message = ThreadEvent("user", {"text": "hi"}, 1.0, "web", message_id="m-1")
    await store.commit("t1", {}, [message], expected_version=0, now=1.0)
    assert await store.has_message("t1", "m-1")
    assert not await store.has_message("t1", "m-2") and not await store.has_message("t2", "m-1")
    with pytest.raises(ConflictError):
        await store.commit("t1", {"x": 1}, [message], expected_version=1, now=2.0)
    snapshot = await store.load("t1")
    assert snapshot is not None and snapshot.version == 1 and snapshot.state == {}
    # the same id in another thread is another message
    assert await store.commit("t2", {}, [message], expected_version=0, now=1.0) == 1
    # outbound events keep their id but are not inbound: no uniqueness asked of them
    reply = ThreadEvent("bot", {"text": "x"}, 1.0, "web", message_id="m-1")
    assert await store.commit("t2", {}, [reply], expected_version=1, now=1.0) == 2


async def test_tail_returns_the_last_events_of_some_kinds_oldest_first(store: ThreadStore) -> None:
    events = [event("user" if n % 3 == 0 else "bot" if n % 3 == 1 else "slot", n) for n in range(1, 31)]
    await store.commit("t1", {}, events, expected_version=0, now=1.0)
    tail = await store.tail("t1", ("user", "bot"), 5)
    assert [(e.seq, e.event.kind) for e in tail] == [(24, "user"), (25, "bot"), (27, "user"), (28, "bot"), (30, "user")]
    assert await store.tail("t1", (), 5) == [] and await store.tail("nope", ("user",), 5) == []


async def test_turn_events_run_from_an_inbound_to_the_next(store: ThreadStore) -> None:
    await store.commit("t1", {}, [
        event("user", 1, "m1"), event("bot", 2), event("slot", 3),
        event("site_event", 4, "e1"), event("bot", 5),
        event("user", 6, "m2"), event("bot", 7),
    ], expected_version=0, now=1.0)
    assert [e.seq for e in await store.turn_events("t1", "m1")] == [1, 2, 3]
    assert [e.seq for e in await store.turn_events("t1", "e1")] == [4, 5]
    assert [e.seq for e in await store.turn_events("t1", "m2")] == [6, 7]
    assert await store.turn_events("t1", "nope") == []


async def test_many_concurrent_commits_under_locks_lose_nothing(store: ThreadStore) -> None:
    locks = LocalThreadLock()

    async def writer(thread: str, n: int) -> None:
        async with locks.lock(thread):
            snapshot = await store.load(thread)
            version = snapshot.version if snapshot else 0
            await store.commit(thread, {"last": n}, [event("user", n)], expected_version=version, now=float(n))

    await asyncio.gather(*(writer(f"t{n % 7}", n) for n in range(350)))
    total = 0
    for thread in await store.thread_ids():
        stored = await store.events(thread)
        numbers = [e.event.data["n"] for e in stored]
        assert numbers == sorted(numbers)  # arrival order per thread
        assert [e.seq for e in stored] == list(range(1, len(stored) + 1))
        snapshot = await store.load(thread)
        assert snapshot is not None and snapshot.state == {"last": numbers[-1]}
        total += len(stored)
    assert total == 350


async def test_a_long_history_is_read_in_bounded_pages(store: ThreadStore) -> None:
    for start in range(0, 3000, 500):
        await store.commit("long", {"n": start}, [event("user" if n % 2 else "bot", n) for n in range(start, start + 500)],
                           expected_version=start, now=float(start))
    page = await store.events("long", after=2500, limit=100)
    assert [e.seq for e in page] == list(range(2501, 2601))
    assert [e.seq for e in await store.tail("long", ("user",), 3)] == [2996, 2998, 3000]
    snapshot = await store.load("long")
    assert snapshot is not None and snapshot.version == 3000


async def test_thread_ids_page_in_order(store: ThreadStore) -> None:
    for name in ("b", "a", "d", "c"):
        await store.commit(name, {}, [event("user", 1)], expected_version=0, now=1.0)
    assert await store.thread_ids() == ["a", "b", "c", "d"]
    assert await store.thread_ids(after="b", limit=1) == ["c"]


async def test_everything_survives_a_restart(store: ThreadStore, store_url: str, tmp_path: Path) -> None:
    thread = await store.resolve(Identity("rest", "ana"), now=1.0)
    await store.commit(thread, {"slots": {"size": 42}}, [event("user", 1, "m1"), event("bot", 2)],
                       expected_version=0, now=1.0)
    store = await reopen(store, store_url, tmp_path)
    assert await store.find(Identity("rest", "ana")) == thread
    snapshot = await store.load(thread)
    assert snapshot is not None and snapshot.state == {"slots": {"size": 42}} and snapshot.version == 2
    assert [e.event for e in await store.events(thread)] == [event("user", 1, "m1"), event("bot", 2)]
    assert await store.has_message(thread, "m1")
    await store.close()


# ---------------------------------------------------------------------- reminders

async def test_due_threads_follow_the_states_wake_at(store: ThreadStore) -> None:
    assert await store.next_wake() is None
    await store.commit("late", {"wake_at": 300.0}, [event("user", 1)], expected_version=0, now=1.0)
    await store.commit("early", {"wake_at": 200.0}, [event("user", 1)], expected_version=0, now=1.0)
    await store.commit("never", {}, [event("user", 1)], expected_version=0, now=1.0)
    assert await store.next_wake() == 200.0
    assert await store.due_threads(now=250.0) == ["early"]
    assert await store.due_threads(now=300.0) == ["early", "late"]
    assert await store.due_threads(now=300.0, limit=1) == ["early"]
    await store.commit("early", {}, [], expected_version=1, now=2.0)  # the reminder ran
    assert await store.due_threads(now=1000.0) == ["late"] and await store.next_wake() == 300.0


# ---------------------------------------------------------------------- link tokens

async def test_a_token_is_used_once_except_by_the_same_person(store: ThreadStore) -> None:
    assert await store.consume_token("n1", expires_at=100.0, now=50.0, by="a") is True
    assert await store.consume_token("n1", expires_at=100.0, now=51.0, by="b") is False
    assert await store.consume_token("n1", expires_at=100.0, now=52.0, by="a") is True
    assert await store.consume_token("n1", expires_at=100.0, now=100.9, by="b") is False  # grace past expiry
    assert await store.consume_token("n2", expires_at=100.0, now=60.0) is True
    assert await store.consume_token("n2", expires_at=100.0, now=61.0) is False  # nobody named: never a retry
    far = 100.0 + TOKEN_GRACE_SECONDS + 1
    assert await store.consume_token("n3", expires_at=far + 100, now=far, by="c") is True
    assert await store.consume_token("n1", expires_at=100.0, now=far, by="b") is True  # forgotten by now


async def test_concurrent_uses_of_one_token_let_exactly_one_through(store: ThreadStore) -> None:
    results = await asyncio.gather(*(store.consume_token("race", expires_at=100.0, now=1.0, by=f"p{i}")
                                     for i in range(20)))
    assert results.count(True) == 1


# ---------------------------------------------------------------------- merging and forgetting

async def test_merge_moves_identities_replaces_the_log_and_redirects(store: ThreadStore) -> None:
    web, fb = Identity("web", "v"), Identity("messenger", "p")
    into = await store.resolve(web, now=1.0)
    source = await store.resolve(fb, now=2.0)
    await store.commit(into, {"who": "web", "wake_at": 500.0}, [event("user", 1, "w1")], expected_version=0, now=3.0)
    await store.commit(source, {"who": "fb"}, [event("user", 2, "f1"), event("bot", 3)], expected_version=0, now=4.0)
    merged = [event("user", 1, "w1"), event("user", 2, "f1"), event("bot", 3), event("merge", 4)]
    with pytest.raises(ConflictError):
        await store.merge_threads(into, source, merged, {"who": "both"}, expected_versions=(1, 1), now=5.0)
    assert await store.find(fb) == source and len(await store.events(into)) == 1  # nothing written
    assert await store.merge_threads(into, source, merged, {"who": "both", "wake_at": 400.0},
                                     expected_versions=(1, 2), now=5.0) == 4
    assert await store.find(fb) == into and await store.identities(into) == [web, fb]
    assert await store.load(source) is None and await store.events(source) == []
    assert [e.event for e in await store.events(into)] == merged
    snapshot = await store.load(into)
    assert snapshot is not None and snapshot.version == 4 and snapshot.state["who"] == "both"
    assert snapshot.created_at == 3.0 and snapshot.updated_at == 5.0
    assert await store.has_message(into, "f1") and await store.due_threads(now=450.0) == [into]
    assert await store.merged_into(source) == into and await store.current(source) == into
    assert await store.merged_into(into) is None and await store.current(into) == into
    assert await store.thread_ids() == [into]
    # merging the merged thread again is refused; so is merging a thread into itself
    for pair in ((into, source), (into, into)):
        with pytest.raises(ConflictError):
            await store.merge_threads(*pair, merged, {}, expected_versions=(4, 0), now=6.0)
    # a merge of a merge: the first source now lives in the final thread too
    third = await store.resolve(Identity("web", "other"), now=7.0)
    await store.commit(third, {}, [event("user", 9)], expected_version=0, now=7.0)
    await store.merge_threads(third, into, [event("user", 9)], {}, expected_versions=(1, 4), now=8.0)
    assert await store.current(source) == third and await store.current(into) == third
    assert await store.commit(third, {}, [event("bot", 10)], expected_version=1, now=9.0) == 2


async def test_delete_thread_forgets_everything_about_it(store: ThreadStore) -> None:
    web, fb = Identity("web", "v"), Identity("messenger", "psid-9")
    thread = await store.resolve(web, now=1.0)
    old = await store.resolve(fb, now=1.0)
    await store.commit(thread, {}, [event("user", 1, "w1")], expected_version=0, now=1.0)
    await store.commit(old, {}, [event("user", 2)], expected_version=0, now=1.0)
    await store.merge_threads(thread, old, [event("user", 1, "w1"), event("user", 2)], {},
                              expected_versions=(1, 1), now=2.0)
    keeper = await store.resolve(Identity("web", "keep"), now=1.0)
    await store.commit(keeper, {}, [event("user", 3)], expected_version=0, now=1.0)
    mine = json.dumps({"item": {"sender": {"id": "psid-9"}, "message": {"mid": "m.1", "text": "hi"}}})
    theirs = json.dumps({"item": {"sender": {"id": "psid-other"}, "message": {"mid": "m.2", "text": "yo"}}})
    await store.enqueue_inbound("messenger", [("m.1", mine), ("m.2", theirs), ("bad", "not json {")], now=1.0)

    assert sorted(await store.delete_thread(thread), key=lambda i: i.channel) == [fb, web]
    assert await store.load(thread) is None and await store.events(thread) == []
    assert await store.find(web) is None and await store.find(fb) is None
    assert await store.merged_into(old) is None
    assert [p for _, p in await store.pending_inbound("messenger")] == [theirs, "not json {"]
    assert await store.thread_ids() == [keeper]
    assert await store.delete_thread("nothing-here") == []


# ---------------------------------------------------------------------- the webhook inbox

async def test_inbox_is_durable_deduplicated_and_ordered(store: ThreadStore, store_url: str, tmp_path: Path) -> None:
    first = await store.enqueue_inbound("messenger", [("mid:a", '{"n": 1}'), ("mid:b", '{"n": 2}')], now=1.0)
    again = await store.enqueue_inbound("messenger", [("mid:b", '{"n": 2}'), ("mid:c", '{"n": 3}')], now=2.0)
    assert None not in first and again[0] is None and again[1] is not None  # mid:b redelivered: stored once
    assert await store.enqueue_inbound("web", [("mid:a", "{}")], now=2.0) != [None]  # another channel's key
    await store.finish_inbound(first[:1], now=3.0)  # type: ignore[list-item]
    store = await reopen(store, store_url, tmp_path)  # a restart: what was not processed is still there, in order
    try:
        assert [payload for _id, payload in await store.pending_inbound("messenger")] == ['{"n": 2}', '{"n": 3}']
        assert [payload for _id, payload in await store.pending_inbound("messenger", limit=1)] == ['{"n": 2}']
        assert await store.enqueue_inbound("messenger", [("mid:a", "{}")], now=4.0) == [None]  # remembered
        await store.finish_inbound([i for i, _ in await store.pending_inbound("messenger")], now=10 * 86400)
        assert await store.pending_inbound("messenger") == []
        assert await store.enqueue_inbound("messenger", [("mid:a", "{}")], now=10 * 86400) != [None]  # forgotten
    finally:
        await store.close()


# ---------------------------------------------------------------------- copying between stores

async def test_a_thread_copies_into_another_store_whole(store: ThreadStore, tmp_path: Path) -> None:
    source = open_store(f"sqlite:///{tmp_path / 'source.db'}", tmp_path)
    await source.open()
    try:
        web, fb = Identity("web", "v"), Identity("messenger", "p")
        thread = await source.resolve(web, now=1.0)
        old = await source.resolve(fb, now=2.0)
        await source.commit(old, {}, [event("user", 1, "f1")], expected_version=0, now=2.0)
        await source.merge_threads(thread, old, [event("user", 1, "f1"), event("merge", 2)],
                                   {"slots": {"size": 42}, "wake_at": 900.0}, expected_versions=(0, 1), now=3.0)
        await source.commit(thread, {"slots": {"size": 43}, "wake_at": 900.0}, [event("user", 3, "w1")],
                            expected_version=2, now=4.0)
        assert await source.merged_sources(thread) == [old]
        dump = await source.export_thread(thread, page=2)
        assert dump is not None and await source.export_thread("nope") is None
    finally:
        await source.close()

    await store.import_thread(dump)
    snapshot = await store.load(thread)
    assert snapshot is not None and snapshot == dump.snapshot
    assert [e.event for e in await store.events(thread)] == dump.events
    assert await store.identities(thread) == [web, fb] and await store.find(fb) == thread
    assert await store.current(old) == thread and await store.merged_sources(thread) == [old]
    assert await store.has_message(thread, "w1") and await store.due_threads(now=1000.0) == [thread]
    with pytest.raises(ConflictError):
        await store.import_thread(dump)
    assert await store.commit(thread, {}, [event("bot", 4)], expected_version=3, now=5.0) == 4
