"""The SQLite store's webhook inbox: items go through the group commit with the thread writes."""

from __future__ import annotations

import sqlite3

from bots.store.base import WebhookInbox
from bots.store.records import PendingInbound
from bots.store.sqlite.core import SQLiteCore
from bots.types import Identity, InboxItem


def insert_items(db: sqlite3.Connection, channel: str, items: list[InboxItem], now: float) -> list[int | None]:
    ids: list[int | None] = []
    for item in items:
        person = item.person
        cursor = db.execute(
            "INSERT OR IGNORE INTO inbox (channel, dedupe_key, payload, received_at, person_channel, person_id) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                channel,
                item.key,
                item.payload,
                now,
                person.channel if person else None,
                person.user_id if person else None,
            ),
        )
        ids.append(int(cursor.lastrowid) if cursor.rowcount and cursor.lastrowid is not None else None)
    return ids


def delete_items_of(db: sqlite3.Connection, people: list[Identity]) -> int:
    rows = [(person.channel, person.user_id) for person in people]
    db.executemany(
        "DELETE FROM inbox_sent WHERE item_id IN (SELECT id FROM inbox WHERE person_channel = ? AND person_id = ?)",
        rows,
    )
    before = db.total_changes
    db.executemany("DELETE FROM inbox WHERE person_channel = ? AND person_id = ?", rows)
    return db.total_changes - before


def mark_item_sent(db: sqlite3.Connection, channel: str, key: str, turn: str, count: int) -> None:
    db.execute(
        "INSERT INTO inbox_sent (item_id, turn, sent) SELECT id, ?, ? FROM inbox WHERE channel = ? AND dedupe_key = ? "
        "ON CONFLICT (item_id, turn) DO UPDATE SET sent = max(sent, excluded.sent)",
        (turn, count, channel, key),
    )


class SQLiteInbox(SQLiteCore, WebhookInbox):
    async def enqueue_inbound(self, channel: str, items: list[InboxItem], *, now: float) -> list[int | None]:
        # through the group commit with the thread writes: one fsync for many webhooks under load
        items = list(items)
        return await self._queued(lambda db: insert_items(db, channel, items, now))

    def _pending_inbound(self, channel: str, limit: int) -> list[PendingInbound]:
        rows = self.reader.execute(
            "SELECT id, payload, person_channel, person_id FROM inbox "
            "WHERE channel = ? AND done_at IS NULL ORDER BY id LIMIT ?",
            (channel, limit),
        ).fetchall()
        return [
            PendingInbound(
                int(item_id), str(payload), Identity(person_channel, person_id) if person_id is not None else None
            )
            for item_id, payload, person_channel, person_id in rows
        ]

    async def pending_inbound(self, channel: str, *, limit: int = 1000) -> list[PendingInbound]:
        return await self._read(self._pending_inbound, channel, limit)

    def _finish_inbound(self, ids: list[int], now: float, keep_seconds: float) -> None:
        with self.transaction() as db:
            db.executemany("UPDATE inbox SET done_at = ? WHERE id = ?", [(now, i) for i in ids])
            # done rows are kept a while: Facebook redelivers for up to a day and a half
            db.execute(
                "DELETE FROM inbox_sent WHERE item_id IN "
                "(SELECT id FROM inbox WHERE done_at IS NOT NULL AND done_at < ?)",
                (now - keep_seconds,),
            )
            db.execute("DELETE FROM inbox WHERE done_at IS NOT NULL AND done_at < ?", (now - keep_seconds,))

    async def finish_inbound(self, ids: list[int], *, now: float, keep_seconds: float = 3 * 86400) -> None:
        if ids:
            await self._write(self._finish_inbound, list(ids), now, keep_seconds)

    def _delete_inbound_of(self, people: list[Identity]) -> int:
        with self.transaction() as db:
            return delete_items_of(db, people)

    async def delete_inbound_of(self, people: list[Identity]) -> int:
        return await self._write(self._delete_inbound_of, list(people)) if people else 0

    async def mark_sent(self, channel: str, key: str, turn: str, count: int) -> None:
        # through the group commit: durable (and fsynced) before the next reply goes out
        await self._queued(lambda db: mark_item_sent(db, channel, key, turn, count))

    def _sent_count(self, channel: str, key: str, turn: str) -> int:
        row = self.reader.execute(
            "SELECT s.sent FROM inbox_sent s JOIN inbox i ON i.id = s.item_id "
            "WHERE i.channel = ? AND i.dedupe_key = ? AND s.turn = ?",
            (channel, key, turn),
        ).fetchone()
        return int(row[0]) if row else 0

    async def sent_count(self, channel: str, key: str, turn: str) -> int:
        return await self._read(self._sent_count, channel, key, turn)
