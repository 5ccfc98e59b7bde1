"""The PostgreSQL store's webhook inbox."""

from __future__ import annotations

import asyncpg

from bots.store.base import WebhookInbox
from bots.store.postgres.core import PostgresCore
from bots.store.postgres.schema import Db
from bots.store.records import PendingInbound
from bots.types import Identity, InboxItem


async def delete_items_of(db: Db | asyncpg.Pool, people: list[Identity]) -> int:
    if not people:
        return 0
    status = await db.execute(
        "DELETE FROM inbox USING unnest($1::text[], $2::text[]) AS p(channel, user_id) "
        "WHERE inbox.person_channel = p.channel AND inbox.person_id = p.user_id",
        [person.channel for person in people],
        [person.user_id for person in people],
    )
    return int(status.rsplit(" ", 1)[-1])


class PostgresInbox(PostgresCore, WebhookInbox):
    async def enqueue_inbound(self, channel: str, items: list[InboxItem], *, now: float) -> list[int | None]:
        if not items:
            return []
        rows = await self._db.fetch(
            "INSERT INTO inbox (channel, dedupe_key, payload, received_at, person_channel, person_id) "
            "SELECT $1, item.key, item.payload, $4, item.person_channel, item.person_id FROM unnest($2::text[], "
            "$3::text[], $5::text[], $6::text[]) WITH ORDINALITY AS item(key, payload, person_channel, person_id, n) "
            "ORDER BY item.n ON CONFLICT (channel, dedupe_key) DO NOTHING RETURNING id, dedupe_key",
            channel,
            [item.key for item in items],
            [item.payload for item in items],
            now,
            [item.person.channel if item.person else None for item in items],
            [item.person.user_id if item.person else None for item in items],
        )
        ids = {row["dedupe_key"]: int(row["id"]) for row in rows}
        return [ids.pop(item.key, None) for item in items]  # pop: a key twice in one batch is stored once

    async def pending_inbound(self, channel: str, *, limit: int = 1000) -> list[PendingInbound]:
        rows = await self._db.fetch(
            "SELECT id, payload, person_channel, person_id FROM inbox "
            "WHERE channel = $1 AND done_at IS NULL ORDER BY id LIMIT $2",
            channel,
            limit,
        )
        return [
            PendingInbound(
                int(row["id"]),
                str(row["payload"]),
                Identity(row["person_channel"], row["person_id"]) if row["person_id"] is not None else None,
            )
            for row in rows
        ]

    async def finish_inbound(self, ids: list[int], *, now: float, keep_seconds: float = 3 * 86400) -> None:
        if not ids:
            return
        async with self._db.acquire() as db, db.transaction():
            await db.execute("UPDATE inbox SET done_at = $1 WHERE id = ANY($2::bigint[])", now, list(ids))
            # done rows are kept a while: Facebook redelivers for up to a day and a half
            await db.execute("DELETE FROM inbox WHERE done_at IS NOT NULL AND done_at < $1", now - keep_seconds)

    async def delete_inbound_of(self, people: list[Identity]) -> int:
        return await delete_items_of(self._db, people)

    async def mark_sent(self, channel: str, key: str, turn: str, count: int) -> None:
        await self._db.execute(
            "INSERT INTO inbox_sent (item_id, turn, sent) SELECT id, $3, $4 FROM inbox "
            "WHERE channel = $1 AND dedupe_key = $2 "
            "ON CONFLICT (item_id, turn) DO UPDATE SET sent = GREATEST(inbox_sent.sent, excluded.sent)",
            channel,
            key,
            turn,
            count,
        )

    async def sent_count(self, channel: str, key: str, turn: str) -> int:
        sent = await self._db.fetchval(
            "SELECT s.sent FROM inbox_sent s JOIN inbox i ON i.id = s.item_id "
            "WHERE i.channel = $1 AND i.dedupe_key = $2 AND s.turn = $3",
            channel,
            key,
            turn,
        )
        return int(sent or 0)
