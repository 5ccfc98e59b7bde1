"""A webhook channel's durable inbox, bound to its channel: items are stored before the 200, processed after."""

from __future__ import annotations

from bots.store.base import ThreadStore
from bots.types import Identity, InboxItem


class ChannelInbox:
    def __init__(self, store: ThreadStore, channel: str) -> None:
        self._store = store
        self.channel = channel

    async def enqueue(self, items: list[InboxItem], *, now: float) -> list[int | None]:
        """One id per item, None where the item was stored before (a redelivery)."""
        return await self._store.enqueue_inbound(self.channel, items, now=now)

    async def pending(self, *, limit: int = 1000) -> list[tuple[int, str, Identity | None]]:
        return [tuple(item) for item in await self._store.pending_inbound(self.channel, limit=limit)]  # type: ignore[misc]

    async def finish(self, ids: list[int], *, now: float) -> None:
        await self._store.finish_inbound(ids, now=now)

    async def sent(self, key: str, turn: str) -> int:
        return await self._store.sent_count(self.channel, key, turn)

    async def mark_sent(self, key: str, turn: str, count: int) -> None:
        await self._store.mark_sent(self.channel, key, turn, count)
