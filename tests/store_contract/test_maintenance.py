"""Maintenance: two threads of one customer merged, a thread forgotten, a thread copied to another store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bots.store.base import ConflictError, InboxItem, ThreadStore
from bots.store.factory import open_store
from bots.types import Identity
from tests.store_contract.helpers import event


async def test_merge_moves_identities_replaces_the_log_and_redirects(store: ThreadStore) -> None:
    web, fb = Identity("web", "v"), Identity("messenger", "p")
    into = await store.resolve(web, now=1.0)
    source = await store.resolve(fb, now=2.0)
    await store.commit(into, {"who": "web"}, [event("user", 1, "w1")], expected_version=0, now=3.0, wake_at=500.0)
    await store.commit(
        source, {"who": "fb"}, [event("user", 2, "f1"), event("bot", 3)], expected_version=0, now=4.0, wake_at=None
    )
    merged = [event("user", 1, "w1"), event("user", 2, "f1"), event("bot", 3), event("merge", 4)]
    with pytest.raises(ConflictError):
        await store.merge_threads(
            into, source, merged, {"who": "both"}, expected_versions=(1, 1), now=5.0, wake_at=None
        )
    assert await store.find(fb) == source and len(await store.events(into)) == 1  # nothing written
    assert (
        await store.merge_threads(
            into, source, merged, {"who": "both"}, expected_versions=(1, 2), now=5.0, wake_at=400.0
        )
        == 4
    )
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
            await store.merge_threads(*pair, merged, {}, expected_versions=(4, 0), now=6.0, wake_at=None)
    # a merge of a merge: the first source now lives in the final thread too
    third = await store.resolve(Identity("web", "other"), now=7.0)
    await store.commit(third, {}, [event("user", 9)], expected_version=0, now=7.0, wake_at=None)
    await store.merge_threads(third, into, [event("user", 9)], {}, expected_versions=(1, 4), now=8.0, wake_at=None)
    assert await store.current(source) == third and await store.current(into) == third
    assert await store.commit(third, {}, [event("bot", 10)], expected_version=1, now=9.0, wake_at=None) == 2
    assert await store.due_threads(now=1000.0) == []  # the wake-up time the last merge gave


async def test_a_commit_at_version_0_to_a_thread_merged_away_is_refused_and_writes_nothing(store: ThreadStore) -> None:
    """A new customer's turn commits without reading its thread first: if a merge took that thread away meanwhile,
    its first commit must not bring the old id back as a thread of its own, apart from the one it lives in."""
    web, fb = Identity("web", "v"), Identity("messenger", "p")
    into = await store.resolve(web, now=1.0)
    fresh = await store.resolve(fb, now=2.0)  # made, nothing committed yet
    await store.commit(into, {"who": "web"}, [event("user", 1, "w1")], expected_version=0, now=3.0, wake_at=None)
    merged = [event("user", 1, "w1"), event("merge", 2)]
    await store.merge_threads(into, fresh, merged, {"who": "both"}, expected_versions=(1, 0), now=4.0, wake_at=None)
    # and a thread that had a log before it was merged away: its log is gone too, so it is at version 0 again
    older = await store.resolve(Identity("web", "older"), now=5.0)
    await store.commit(older, {}, [event("user", 3, "o1")], expected_version=0, now=5.0, wake_at=None)
    merged += [event("user", 3, "o1")]
    await store.merge_threads(into, older, merged, {"who": "all"}, expected_versions=(2, 1), now=6.0, wake_at=None)

    for gone in (fresh, older):
        with pytest.raises(ConflictError):
            await store.commit(
                gone, {"who": "late"}, [event("user", 4, "late")], expected_version=0, now=7.0, wake_at=8.0
            )
        with pytest.raises(ConflictError):  # a commit without events too
            await store.commit(gone, {"who": "late"}, [], expected_version=0, now=7.0, wake_at=None)
        assert await store.load(gone) is None and await store.events(gone) == []
        assert not await store.has_message(gone, "late") and await store.wake_time(gone) is None
        assert await store.current(gone) == into
    assert await store.thread_ids() == [into] and await store.due_threads(now=100.0) == []
    snapshot = await store.load(into)
    assert snapshot is not None and snapshot.version == 3 and snapshot.state == {"who": "all"}
    assert [e.event for e in await store.events(into)] == merged
    assert await store.identities(into) == [web, fb, Identity("web", "older")]
    # the thread they live in takes its commits as usual
    assert await store.commit(into, {}, [event("user", 4, "late")], expected_version=3, now=7.0, wake_at=None) == 4


async def test_delete_thread_forgets_everything_about_it(store: ThreadStore) -> None:
    web, fb = Identity("web", "v"), Identity("messenger", "psid-9")
    thread = await store.resolve(web, now=1.0)
    old = await store.resolve(fb, now=1.0)
    await store.commit(thread, {}, [event("user", 1, "w1")], expected_version=0, now=1.0, wake_at=None)
    await store.commit(old, {}, [event("user", 2)], expected_version=0, now=1.0, wake_at=None)
    await store.merge_threads(
        thread, old, [event("user", 1, "w1"), event("user", 2)], {}, expected_versions=(1, 1), now=2.0, wake_at=None
    )
    keeper = await store.resolve(Identity("web", "keep"), now=1.0)
    await store.commit(keeper, {}, [event("user", 3)], expected_version=0, now=1.0, wake_at=None)
    mine = json.dumps({"item": {"sender": {"id": "psid-9"}, "message": {"mid": "m.1", "text": "hi"}}})
    theirs = json.dumps({"item": {"sender": {"id": "psid-other"}, "message": {"mid": "m.2", "text": "yo"}}})
    await store.enqueue_inbound(
        "messenger",
        [
            InboxItem("m.1", mine, fb),
            InboxItem("m.2", theirs, Identity("messenger", "psid-other")),
            InboxItem("bad", "not json {"),
        ],
        now=1.0,
    )
    await store.enqueue_inbound("instagram", [InboxItem("i.1", "{}", web)], now=1.0)  # any channel's item of theirs

    assert sorted(await store.delete_thread(thread), key=lambda i: i.channel) == [fb, web]
    assert await store.load(thread) is None and await store.events(thread) == []
    assert await store.find(web) is None and await store.find(fb) is None
    assert await store.merged_into(old) is None
    assert [p for _, p, _ in await store.pending_inbound("messenger")] == [theirs, "not json {"]
    assert await store.pending_inbound("instagram") == []
    assert await store.thread_ids() == [keeper]
    assert await store.delete_thread("nothing-here") == []


async def test_a_thread_copies_into_another_store_whole(store: ThreadStore, tmp_path: Path) -> None:
    source = open_store(f"sqlite:///{tmp_path / 'source.db'}", tmp_path)
    await source.open()
    try:
        web, fb = Identity("web", "v"), Identity("messenger", "p")
        thread = await source.resolve(web, now=1.0)
        old = await source.resolve(fb, now=2.0)
        await source.commit(old, {}, [event("user", 1, "f1")], expected_version=0, now=2.0, wake_at=None)
        await source.merge_threads(
            thread,
            old,
            [event("user", 1, "f1"), event("merge", 2)],
            {"slots": {"size": 42}},
            expected_versions=(0, 1),
            now=3.0,
            wake_at=900.0,
        )
        await source.commit(
            thread, {"slots": {"size": 43}}, [event("user", 3, "w1")], expected_version=2, now=4.0, wake_at=900.0
        )
        assert await source.merged_sources(thread) == [old]
        dump = await source.export_thread(thread, page=2)
        assert dump is not None and dump.wake_at == 900.0 and await source.export_thread("nope") is None
    finally:
        await source.close()

    await store.import_thread(dump)
    snapshot = await store.load(thread)
    assert snapshot is not None and snapshot == dump.snapshot
    assert [e.event for e in await store.events(thread)] == dump.events
    assert await store.identities(thread) == [web, fb] and await store.find(fb) == thread
    assert await store.current(old) == thread and await store.merged_sources(thread) == [old]
    assert await store.has_message(thread, "w1") and await store.due_threads(now=1000.0) == [thread]
    assert await store.export_thread(thread) == dump
    with pytest.raises(ConflictError):
        await store.import_thread(dump)
    assert await store.commit(thread, {}, [event("bot", 4)], expected_version=3, now=5.0, wake_at=None) == 4
