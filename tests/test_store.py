"""What only the SQLite thread store does (durability across restarts, its migrations, its inbox); the common
behaviour of every store is the contract suite in tests/store_contract/."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bots.cli.migrate_store import migrate
from bots.errors import UserError
from bots.handoff.notify import OUTBOX
from bots.store.base import ConflictError
from bots.store.factory import open_store
from bots.store.sqlite import MIGRATIONS, SQLiteThreadStore
from bots.types import Identity, InboxItem, ThreadEvent


def event(kind: str, n: int) -> ThreadEvent:
    return ThreadEvent(kind, {"n": n, "text": f"héllo {n} 👟"}, 100.0 + n, "rest")


@pytest.fixture
async def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    store = SQLiteThreadStore(tmp_path / "t.db")
    await store.open()
    yield store
    await store.close()


async def test_everything_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "restart.db"
    store = SQLiteThreadStore(path)
    await store.open()
    thread = await store.resolve(Identity("rest", "ana"), now=1.0)
    await store.commit(
        thread, {"slots": {"size": 42}}, [event("user", 1), event("bot", 2)], expected_version=0, now=1.0, wake_at=None
    )
    await store.close()

    reopened = SQLiteThreadStore(path)
    await reopened.open()
    try:
        assert await reopened.find(Identity("rest", "ana")) == thread
        snapshot = await reopened.load(thread)
        assert snapshot is not None and snapshot.state == {"slots": {"size": 42}} and snapshot.version == 2
        assert len(await reopened.events(thread)) == 2
        assert reopened.schema_version() == len(MIGRATIONS)
    finally:
        await reopened.close()


async def test_a_returning_customer_resolved_after_a_restart_keeps_the_history(tmp_path: Path) -> None:
    """After a restart nothing is cached: resolving a known customer must find the stored thread, not take it
    for a new one with nothing stored (which a new customer's first turn is spared reading)."""
    path = tmp_path / "returning.db"
    store = SQLiteThreadStore(path)
    await store.open()
    thread = await store.resolve(Identity("rest", "ana"), now=1.0)
    assert await store.load(thread) is None and await store.tail(thread, ("user",), 10) == []
    await store.commit(thread, {"n": 1}, [event("user", 1)], expected_version=0, now=1.0, wake_at=None)
    snapshot = await store.load(thread)
    assert snapshot is not None and snapshot.version == 1 and snapshot.created_at == 1.0
    assert [stored.event.data["n"] for stored in await store.tail(thread, ("user",), 10)] == [1]
    await store.close()

    reopened = SQLiteThreadStore(path)
    await reopened.open()
    try:
        assert await reopened.resolve(Identity("rest", "ana"), now=2.0) == thread
        snapshot = await reopened.load(thread)
        assert snapshot is not None and snapshot.state == {"n": 1} and snapshot.version == 1
        assert len(await reopened.tail(thread, ("user",), 10)) == 1
        assert await reopened.has_message(thread, "m-1") is False
        other = await reopened.resolve(Identity("rest", "ben"), now=2.0)
        assert other != thread and await reopened.load(other) is None
    finally:
        await reopened.close()


async def test_wal_mode_and_schema_version(store: SQLiteThreadStore, tmp_path: Path) -> None:
    connection = sqlite3.connect(tmp_path / "t.db")
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert connection.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    connection.close()


async def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    connection = sqlite3.connect(path)
    connection.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    connection.close()
    store = SQLiteThreadStore(path)
    with pytest.raises(UserError, match="newer than this Threadline"):
        await store.open()


def test_store_urls(tmp_path: Path) -> None:
    store = open_store("sqlite:///x/y.db", tmp_path)
    assert isinstance(store, SQLiteThreadStore) and store.path == tmp_path / "x" / "y.db"
    absolute = open_store(f"sqlite:///{tmp_path}/abs.db?synchronous=normal", Path("/elsewhere"))
    assert isinstance(absolute, SQLiteThreadStore)
    assert absolute.path == tmp_path / "abs.db" and absolute.synchronous == "NORMAL"
    for bad, message in [
        ("mysql://db/x", "unsupported store .mysql."),
        ("sqlite:///x.db?synchronous=sometimes", "synchronous must be"),
        ("sqlite:///x.db?cache=1", "unknown option 'cache'"),
    ]:
        with pytest.raises(UserError, match=message):
            open_store(bad, tmp_path)


async def test_migration_from_version_1_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    connection = sqlite3.connect(path, isolation_level=None)
    for statement in MIGRATIONS[0].split(";"):
        if statement.strip():
            connection.execute(statement)
    connection.execute("PRAGMA user_version = 1")
    connection.execute("INSERT INTO threads VALUES ('t1', 1, '{}', 1.0, 1.0)")
    connection.execute("INSERT INTO events VALUES ('t1', 1, 1.0, 'user', 'web', 'web:a', '{}')")
    connection.close()
    store = SQLiteThreadStore(path)
    await store.open()
    try:
        assert store.schema_version() == len(MIGRATIONS) == 10
        assert await store.has_message("t1", "web:a")
        event_with_id = ThreadEvent("site_event", {"name": "product_viewed"}, 2.0, "web", message_id="web:b")
        await store.commit("t1", {}, [event_with_id], expected_version=1, now=2.0, wake_at=None)
        assert await store.has_message("t1", "web:b")
        with pytest.raises(ConflictError):
            await store.commit("t1", {}, [event_with_id], expected_version=2, now=3.0, wake_at=None)
    finally:
        await store.close()


async def test_inbox_is_durable_deduplicated_and_ordered(tmp_path: Path) -> None:
    path = tmp_path / "inbox.db"
    store = SQLiteThreadStore(path)
    await store.open()
    first = await store.enqueue_inbound(
        "messenger", [InboxItem("mid:a", '{"n": 1}'), InboxItem("mid:b", '{"n": 2}')], now=1.0
    )
    again = await store.enqueue_inbound(
        "messenger", [InboxItem("mid:b", '{"n": 2}'), InboxItem("mid:c", '{"n": 3}')], now=2.0
    )
    assert None not in first and again[0] is None and again[1] is not None  # mid:b redelivered: stored once
    await store.finish_inbound(first[:1], now=3.0)  # type: ignore[list-item]
    await store.close()
    reopened = SQLiteThreadStore(path)  # a restart: what was not processed is still there, in order
    await reopened.open()
    try:
        assert [item.payload for item in await reopened.pending_inbound("messenger")] == ['{"n": 2}', '{"n": 3}']
        assert await reopened.pending_inbound("web") == []
        assert await reopened.enqueue_inbound("messenger", [InboxItem("mid:a", "{}")], now=4.0) == [None]  # remembered
        await reopened.finish_inbound([item.id for item in await reopened.pending_inbound("messenger")], now=10 * 86400)
        assert await reopened.enqueue_inbound("messenger", [InboxItem("mid:a", "{}")], now=10 * 86400) != [
            None
        ]  # forgotten
    finally:
        await reopened.close()


async def test_migrate_store_copies_unprocessed_webhook_items_with_their_person(tmp_path: Path) -> None:
    source, target = SQLiteThreadStore(tmp_path / "source.db"), SQLiteThreadStore(tmp_path / "target.db")
    await source.open()
    await target.open()
    try:
        ana = Identity("messenger", "psid-ana")
        await source.enqueue_inbound(
            "messenger", [InboxItem("mid:a", '{"n": 1}', ana), InboxItem("page", "{}")], now=1.0
        )
        await source.enqueue_inbound(OUTBOX, [InboxItem("t1:4", '{"event": "handoff.queued"}', ana)], now=1.0)
        report = await migrate(source, target)
        assert report.inbox_items == 3 and report.mismatches == []
        [notification] = await target.pending_inbound(OUTBOX)  # an unsent hand-off notification is sent from there
        assert (notification.payload, notification.person) == ('{"event": "handoff.queued"}', ana)
        assert [(item.payload, item.person) for item in await target.pending_inbound("messenger")] == [
            ('{"n": 1}', ana),
            ("{}", None),
        ]
        assert (await migrate(source, target)).inbox_items == 0  # a second run stores them once
    finally:
        await source.close()
        await target.close()


@pytest.mark.parametrize("returning", [True, False])
async def test_a_new_identity_is_made_once_with_or_without_insert_returning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, returning: bool
) -> None:
    """SQLite before 3.35 has no INSERT ... RETURNING: the store then inserts and reads the row back."""
    from bots.store.sqlite import identities

    monkeypatch.setattr(identities, "RETURNING", returning)
    store = SQLiteThreadStore(tmp_path / "t.db")
    await store.open()
    try:
        who = Identity("rest", "first-timer")
        thread_id, created = await store.resolve_or_create(who, now=1.0)
        assert created and thread_id.startswith("t_")
        store._identity_cache.pop(who, None)  # as another process would: the store asks SQLite again
        assert await store.resolve_or_create(who, now=2.0) == (thread_id, False)
    finally:
        await store.close()
