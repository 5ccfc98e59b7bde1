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


async def test_sent_marks_are_durable_per_turn_and_forgotten_with_their_item(
    store: ThreadStore, store_url: str, tmp_path: Path
) -> None:
    [ana, bo] = await store.enqueue_inbound("messenger", [InboxItem("a", "{}", ANA), InboxItem("b", "{}")], now=1.0)
    await store.enqueue_inbound("web", [InboxItem("a", "{}")], now=1.0)
    assert await store.sent_count("messenger", "a", "fb:a") == 0
    await store.mark_sent("messenger", "a", "fb:a", 1)
    await store.mark_sent("messenger", "a", "fb:a", 2)
    await store.mark_sent("messenger", "a", "fb:a", 1)  # late or repeated: the highest count stays
    await store.mark_sent("messenger", "a", "fb:a:referral", 1)
    await store.mark_sent("messenger", "b", "fb:b", 3)
    await store.mark_sent("messenger", "never-stored", "fb:x", 1)  # no item: nothing recorded, no error
    store = await reopen(store, store_url, tmp_path)  # a crash and a restart: the marks are still there
    try:
        assert await store.sent_count("messenger", "a", "fb:a") == 2
        assert await store.sent_count("messenger", "a", "fb:a:referral") == 1
        assert await store.sent_count("messenger", "b", "fb:b") == 3
        assert await store.sent_count("web", "a", "fb:a") == 0  # another channel's item with the same key
        assert await store.sent_count("messenger", "never-stored", "fb:x") == 0
        await store.enqueue_inbound("messenger", [InboxItem("never-stored", "{}")], now=2.0)
        assert await store.sent_count("messenger", "never-stored", "fb:x") == 0
        assert await store.delete_inbound_of([ANA]) == 1  # forgetting a person forgets their items' marks
        await store.enqueue_inbound("messenger", [InboxItem("a", "{}", ANA)], now=3.0)
        assert await store.sent_count("messenger", "a", "fb:a") == 0
        await store.finish_inbound([bo or 0], now=4.0)
        assert await store.sent_count("messenger", "b", "fb:b") == 3  # processed items are kept a while ...
        await store.finish_inbound([ana or 0], now=10 * 86400)  # ... and forgotten with their marks
        await store.enqueue_inbound("messenger", [InboxItem("b", "{}")], now=10 * 86400)
        assert await store.sent_count("messenger", "b", "fb:b") == 0
    finally:
        await store.close()
