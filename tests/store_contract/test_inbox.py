"""WebhookInbox: items stored before a webhook is acknowledged, each with the person it concerns."""

from __future__ import annotations

from pathlib import Path

from bots.store.base import InboxItem, PendingInbound, ThreadStore, WebhookInbox
from bots.types import Identity
from tests.store_contract.helpers import reopen

ANA, BO = Identity("messenger", "psid-ana"), Identity("web", "visitor-bo")


async def test_inbox_is_durable_deduplicated_and_ordered(store: ThreadStore, store_url: str, tmp_path: Path) -> None:
    first = await store.enqueue_inbound(
        "messenger", [InboxItem("mid:a", '{"n": 1}'), InboxItem("mid:b", '{"n": 2}')], now=1.0
    )
    again = await store.enqueue_inbound(
        "messenger", [InboxItem("mid:b", '{"n": 2}'), InboxItem("mid:c", '{"n": 3}')], now=2.0
    )
    assert None not in first and again[0] is None and again[1] is not None  # mid:b redelivered: stored once
    assert await store.enqueue_inbound("web", [InboxItem("mid:a", "{}")], now=2.0) != [None]  # another channel's key
    await store.finish_inbound(first[:1], now=3.0)  # type: ignore[list-item]
    store = await reopen(store, store_url, tmp_path)  # a restart: what was not processed is still there, in order
    try:
        assert [item.payload for item in await store.pending_inbound("messenger")] == ['{"n": 2}', '{"n": 3}']
        assert [item.payload for item in await store.pending_inbound("messenger", limit=1)] == ['{"n": 2}']
        assert await store.enqueue_inbound("messenger", [InboxItem("mid:a", "{}")], now=4.0) == [None]  # remembered
        await store.finish_inbound([item.id for item in await store.pending_inbound("messenger")], now=10 * 86400)
        assert await store.pending_inbound("messenger") == []
        assert await store.enqueue_inbound("messenger", [InboxItem("mid:a", "{}")], now=10 * 86400) != [
            None
        ]  # forgotten
    finally:
        await store.close()


async def test_pending_items_keep_the_person_they_concern(store: WebhookInbox) -> None:
    ids = await store.enqueue_inbound(
        "messenger", [InboxItem("a", "ana's", ANA), InboxItem("page", "nobody's")], now=1.0
    )
    assert await store.pending_inbound("messenger") == [
        PendingInbound(ids[0] or 0, "ana's", ANA),
        PendingInbound(ids[1] or 0, "nobody's", None),
    ]


async def test_a_persons_items_are_deleted_in_every_channel_and_no_one_elses(store: WebhookInbox) -> None:
    done = await store.enqueue_inbound("messenger", [InboxItem("a1", "ana 1", ANA)], now=1.0)
    await store.finish_inbound([i for i in done if i is not None], now=2.0)  # processed, kept for redeliveries
    await store.enqueue_inbound(
        "messenger",
        [InboxItem("a2", "ana 2", ANA), InboxItem("b1", "bo 1", BO), InboxItem("page", "nobody's")],
        now=3.0,
    )
    await store.enqueue_inbound("web", [InboxItem("b2", "bo 2", BO), InboxItem("a3", "ana 3", ANA)], now=3.0)
    assert await store.delete_inbound_of([ANA, Identity("messenger", "psid-unknown")]) == 3
    assert [item.payload for item in await store.pending_inbound("messenger")] == ["bo 1", "nobody's"]
    assert [item.payload for item in await store.pending_inbound("web")] == ["bo 2"]
    assert await store.delete_inbound_of([]) == 0
    # the deleted items are forgotten altogether: a redelivery is stored again
    assert await store.enqueue_inbound("messenger", [InboxItem("a1", "ana 1 again", ANA)], now=4.0) != [None]
