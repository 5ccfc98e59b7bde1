"""The Redis store's webhook inbox."""

from __future__ import annotations

from bots.store.base import WebhookInbox
from bots.store.records import PendingInbound
from bots.store.redis.core import RedisCore
from bots.store.redis.replies import text, texts
from bots.types import Identity, InboxItem


class RedisInbox(RedisCore, WebhookInbox):
    async def enqueue_inbound(self, channel: str, items: list[InboxItem], *, now: float) -> list[int | None]:
        if not items:
            return []
        ids = await self._run(
            "enqueue",
            [
                channel,
                *(
                    part
                    for item in items
                    for part in (item.key, item.payload, self.keys.member(item.person) if item.person else "")
                ),
            ],
        )
        return [int(i) or None for i in ids]

    async def pending_inbound(self, channel: str, *, limit: int = 1000) -> list[PendingInbound]:
        if limit <= 0:
            return []
        ids = texts(await self.client.zrange(self.keys("inbox_pending", channel), 0, limit - 1))
        if not ids:
            return []
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.hmget(self.keys("inbox_payload"), ids)
            pipe.hmget(self.keys("inbox_person"), ids)
            payloads, people = await pipe.execute()
        return [
            PendingInbound(int(i), payload, self.keys.identity(person) if person is not None else None)
            for i, payload, person in zip(ids, payloads, people, strict=True)
            if payload is not None
        ]  # None: finished since

    async def finish_inbound(self, ids: list[int], *, now: float, keep_seconds: float = 3 * 86400) -> None:
        if ids:
            await self._run("finish", [now, now - keep_seconds, *ids])

    async def delete_inbound_of(self, people: list[Identity]) -> int:
        if not people:
            return 0
        return int(await self._run("forget_inbox", [self.keys.member(person) for person in people]))

    async def mark_sent(self, channel: str, key: str, turn: str, count: int) -> None:
        await self._run("mark_sent", [channel, key, turn, count])

    async def sent_count(self, channel: str, key: str, turn: str) -> int:
        item = await self.client.hget(self.keys("inbox_dedupe", channel), key)
        if item is None:
            return 0
        sent = await self.client.hget(self.keys("inbox_sent", text(item)), turn)
        return int(sent or 0)
