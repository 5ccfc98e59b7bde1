"""WakeIndex: which threads need attention by themselves, from the ``wake_at`` each commit gives."""

from __future__ import annotations

from bots.store.base import ThreadStore
from tests.store_contract.helpers import event


async def test_due_threads_follow_the_wake_at_of_commits(store: ThreadStore) -> None:
    assert await store.next_wake() is None
    await store.commit("late", {}, [event("user", 1)], expected_version=0, now=1.0, wake_at=300.0)
    await store.commit("early", {}, [event("user", 1)], expected_version=0, now=1.0, wake_at=200.0)
    await store.commit("never", {}, [event("user", 1)], expected_version=0, now=1.0, wake_at=None)
    assert await store.next_wake() == 200.0
    assert await store.due_threads(now=250.0) == ["early"]
    assert await store.due_threads(now=300.0) == ["early", "late"]
    assert await store.due_threads(now=300.0, limit=1) == ["early"]
    await store.commit("early", {}, [], expected_version=1, now=2.0, wake_at=None)  # the reminder ran
    assert await store.due_threads(now=1000.0) == ["late"] and await store.next_wake() == 300.0


async def test_the_wake_up_time_is_the_callers_and_never_read_from_the_state(store: ThreadStore) -> None:
    await store.commit("t1", {"wake_at": 100.0}, [event("user", 1)], expected_version=0, now=1.0, wake_at=None)
    assert await store.due_threads(now=1000.0) == [] and await store.next_wake() is None
    assert await store.wake_time("t1") is None
    await store.commit("t1", {"wake_at": 100.0}, [], expected_version=1, now=2.0, wake_at=500.0)
    assert await store.wake_time("t1") == 500.0 and await store.next_wake() == 500.0
    assert await store.due_threads(now=499.0) == [] and await store.due_threads(now=500.0) == ["t1"]
    assert await store.wake_time("nope") is None
