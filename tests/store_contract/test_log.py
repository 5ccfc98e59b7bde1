"""ThreadLog: each thread's event log and snapshot, written together, versioned, in order."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bots.store.base import ConflictError, ThreadLog, ThreadStore
from bots.store.local_lock import LocalThreadLock
from bots.types import Identity, ThreadEvent
from tests.store_contract.helpers import event, reopen


async def test_commit_appends_in_order_and_versions(store: ThreadLog) -> None:
    assert await store.load("t1") is None
    assert (
        await store.commit(
            "t1", {"a": 1}, [event("user", 1), event("bot", 2)], expected_version=0, now=5.0, wake_at=None
        )
        == 2
    )
    assert (
        await store.commit("t1", {"a": 2, "ü": ["👟"]}, [event("user", 3)], expected_version=2, now=6.0, wake_at=None)
        == 3
    )
    snapshot = await store.load("t1")
    assert snapshot is not None and snapshot.state == {"a": 2, "ü": ["👟"]} and snapshot.version == 3
    assert snapshot.created_at == 5.0 and snapshot.updated_at == 6.0
    stored = await store.events("t1")
    assert [(e.seq, e.event.kind, e.event.data["n"]) for e in stored] == [(1, "user", 1), (2, "bot", 2), (3, "user", 3)]
    assert stored[0].event == event("user", 1)
    assert [e.seq for e in await store.events("t1", after=1, limit=1)] == [2]
    assert await store.events("t1", after=3) == [] and await store.events("nope") == []


async def test_a_commit_without_events_saves_the_state(store: ThreadLog) -> None:
    await store.commit("t1", {"a": 1}, [event("user", 1)], expected_version=0, now=1.0, wake_at=None)
    assert await store.commit("t1", {"a": 2}, [], expected_version=1, now=2.0, wake_at=None) == 1
    snapshot = await store.load("t1")
    assert snapshot is not None and snapshot.state == {"a": 2} and snapshot.version == 1


async def test_stale_commit_is_refused_and_writes_nothing(store: ThreadLog) -> None:
    await store.commit("t1", {"a": 1}, [event("user", 1)], expected_version=0, now=1.0, wake_at=None)
    with pytest.raises(ConflictError):
        await store.commit("t1", {"a": "stale"}, [event("user", 99)], expected_version=0, now=2.0, wake_at=None)
    with pytest.raises(ConflictError):
        await store.commit("t2", {"a": "stale"}, [event("user", 99)], expected_version=3, now=2.0, wake_at=None)
    snapshot = await store.load("t1")
    assert snapshot is not None and snapshot.state == {"a": 1}
    assert [e.event.data["n"] for e in await store.events("t1")] == [1]
    assert await store.load("t2") is None


async def test_a_conflict_does_not_affect_other_threads(store: ThreadLog) -> None:
    await store.commit("t1", {}, [event("user", 1)], expected_version=0, now=1.0, wake_at=None)
    results = await asyncio.gather(
        store.commit("t1", {}, [event("user", 2)], expected_version=0, now=2.0, wake_at=None),  # stale
        *(
            store.commit(f"other{i}", {"i": i}, [event("user", i)], expected_version=0, now=2.0, wake_at=None)
            for i in range(10)
        ),
        return_exceptions=True,
    )
    assert isinstance(results[0], ConflictError)
    assert results[1:] == [1] * 10
    assert len(await store.thread_ids()) == 11


async def test_duplicate_inbound_id_is_detected_and_refused(store: ThreadLog) -> None:
    message = ThreadEvent("user", {"text": "hi"}, 1.0, "web", message_id="m-1")
    await store.commit("t1", {}, [message], expected_version=0, now=1.0, wake_at=None)
    assert await store.has_message("t1", "m-1")
    assert not await store.has_message("t1", "m-2") and not await store.has_message("t2", "m-1")
    with pytest.raises(ConflictError):
        await store.commit("t1", {"x": 1}, [message], expected_version=1, now=2.0, wake_at=None)
    snapshot = await store.load("t1")
    assert snapshot is not None and snapshot.version == 1 and snapshot.state == {}
    # the same id in another thread is another message
    assert await store.commit("t2", {}, [message], expected_version=0, now=1.0, wake_at=None) == 1
    # outbound events keep their id but are not inbound: no uniqueness asked of them
    reply = ThreadEvent("bot", {"text": "x"}, 1.0, "web", message_id="m-1")
    assert await store.commit("t2", {}, [reply], expected_version=1, now=1.0, wake_at=None) == 2


async def test_tail_returns_the_last_events_of_some_kinds_oldest_first(store: ThreadLog) -> None:
    events = [event("user" if n % 3 == 0 else "bot" if n % 3 == 1 else "slot", n) for n in range(1, 31)]
    await store.commit("t1", {}, events, expected_version=0, now=1.0, wake_at=None)
    tail = await store.tail("t1", ("user", "bot"), 5)
    assert [(e.seq, e.event.kind) for e in tail] == [(24, "user"), (25, "bot"), (27, "user"), (28, "bot"), (30, "user")]
    assert await store.tail("t1", (), 5) == [] and await store.tail("nope", ("user",), 5) == []


async def test_turn_events_run_from_an_inbound_to_the_next(store: ThreadLog) -> None:
    await store.commit(
        "t1",
        {},
        [
            event("user", 1, "m1"),
            event("bot", 2),
            event("slot", 3),
            event("site_event", 4, "e1"),
            event("bot", 5),
            event("user", 6, "m2"),
            event("bot", 7),
        ],
        expected_version=0,
        now=1.0,
        wake_at=None,
    )
    assert [e.seq for e in await store.turn_events("t1", "m1")] == [1, 2, 3]
    assert [e.seq for e in await store.turn_events("t1", "e1")] == [4, 5]
    assert [e.seq for e in await store.turn_events("t1", "m2")] == [6, 7]
    assert await store.turn_events("t1", "nope") == []


async def test_many_concurrent_commits_under_locks_lose_nothing(store: ThreadLog) -> None:
    locks = LocalThreadLock()

    async def writer(thread: str, n: int) -> None:
        async with locks.lock(thread):
            snapshot = await store.load(thread)
            version = snapshot.version if snapshot else 0
            await store.commit(
                thread, {"last": n}, [event("user", n)], expected_version=version, now=float(n), wake_at=None
            )

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
    assert len(locks) == 0  # every key's lock let go of


async def test_a_long_history_is_read_in_bounded_pages(store: ThreadLog) -> None:
    for start in range(0, 3000, 500):
        batch = [event("user" if n % 2 else "bot", n) for n in range(start, start + 500)]
        await store.commit("long", {"n": start}, batch, expected_version=start, now=float(start), wake_at=None)
    page = await store.events("long", after=2500, limit=100)
    assert [e.seq for e in page] == list(range(2501, 2601))
    assert [e.seq for e in await store.tail("long", ("user",), 3)] == [2996, 2998, 3000]
    snapshot = await store.load("long")
    assert snapshot is not None and snapshot.version == 3000


async def test_thread_ids_page_in_order(store: ThreadLog) -> None:
    for name in ("b", "a", "d", "c"):
        await store.commit(name, {}, [event("user", 1)], expected_version=0, now=1.0, wake_at=None)
    assert await store.thread_ids() == ["a", "b", "c", "d"]
    assert await store.thread_ids(after="b", limit=1) == ["c"]


async def test_everything_survives_a_restart(store: ThreadStore, store_url: str, tmp_path: Path) -> None:
    thread = await store.resolve(Identity("rest", "ana"), now=1.0)
    await store.commit(
        thread,
        {"slots": {"size": 42}},
        [event("user", 1, "m1"), event("bot", 2)],
        expected_version=0,
        now=1.0,
        wake_at=None,
    )
    store = await reopen(store, store_url, tmp_path)
    assert await store.find(Identity("rest", "ana")) == thread
    snapshot = await store.load(thread)
    assert snapshot is not None and snapshot.state == {"slots": {"size": 42}} and snapshot.version == 2
    assert [e.event for e in await store.events(thread)] == [event("user", 1, "m1"), event("bot", 2)]
    assert await store.has_message(thread, "m1")
    await store.close()
