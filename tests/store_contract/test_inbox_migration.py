"""Upgrading a store: webhook items stored before the inbox knew persons get theirs, on every backend.

The items are written as the previous schema of each backend stored them;
opening the store runs its one-time migration, which reads Messenger's JSON
of those items (and only of those).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import redis.asyncio as aioredis

from bots.store.factory import open_store
from bots.store.postgres.schema import MIGRATIONS as POSTGRES_MIGRATIONS
from bots.store.sqlite.schema import MIGRATIONS as SQLITE_MIGRATIONS
from bots.types import Identity

PSID, NUMERIC_PSID, REF = "psid-ana", "1000200030004", "ref-ana"
# (dedupe key, payload, the person the migration must find); Ana as sender, as the recipient of an echo, by an
# opt-in's user_ref and by a numeric PSID; Bo; and an item that is not JSON
LEGACY: list[tuple[str, str, Identity | None]] = [
    (key, json.dumps({"item": item, "page_id": "1", "standby": False}), person)
    for key, item, person in [
        (
            "mid:a1",
            {"sender": {"id": PSID}, "recipient": {"id": "1"}, "message": {"mid": "a1", "text": "hi"}},
            Identity("messenger", PSID),
        ),
        (
            "echo:a2",
            {"sender": {"id": "1"}, "recipient": {"id": PSID}, "message": {"mid": "a2", "is_echo": True}},
            Identity("messenger", PSID),
        ),
        (
            "optin:a3",
            {"recipient": {"id": "1"}, "optin": {"type": "one_time_notif_req", "user_ref": REF}},
            Identity("messenger_ref", REF),
        ),
        (
            "mid:a4",
            {"sender": {"id": int(NUMERIC_PSID)}, "recipient": {"id": "1"}, "message": {"mid": "a4"}},
            Identity("messenger", NUMERIC_PSID),
        ),
        (
            "mid:b1",
            {"sender": {"id": "psid-bo"}, "recipient": {"id": "1"}, "message": {"mid": "b1"}},
            Identity("messenger", "psid-bo"),
        ),
    ]
] + [("broken", "{not json", None)]


def _sqlite(path: Path) -> None:
    db = sqlite3.connect(path, isolation_level=None)
    for step in SQLITE_MIGRATIONS[:7]:
        assert isinstance(step, str)
        for statement in step.split(";"):
            if statement.strip():
                db.execute(statement)
    db.execute("PRAGMA user_version = 7")
    db.executemany(
        "INSERT INTO inbox (channel, dedupe_key, payload, received_at) VALUES ('messenger', ?, ?, 1.0)",
        [(key, payload) for key, payload, _ in LEGACY],
    )
    db.close()


async def _postgres(url: str) -> None:
    db = await asyncpg.connect(url)
    try:
        await db.execute(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
            "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        for version, step in enumerate(POSTGRES_MIGRATIONS[:2], start=1):
            assert isinstance(step, str)
            await db.execute(step)
            await db.execute("INSERT INTO schema_migrations (version) VALUES ($1)", version)
        await db.executemany(
            "INSERT INTO inbox (channel, dedupe_key, payload, received_at) VALUES ('messenger', $1, $2, 1.0)",
            [(key, payload) for key, payload, _ in LEGACY],
        )
    finally:
        await db.close()


async def _redis(url: str) -> None:
    """What the Redis store wrote before it kept a layout version (prefix tl:)."""
    client = aioredis.from_url(url, decode_responses=True)
    try:
        for key, payload, _ in LEGACY:
            item_id = await client.incr("tl:inbox_seq")
            await client.hset("tl:inbox_dedupe:messenger", key, item_id)
            await client.hset("tl:inbox_meta", str(item_id), f"messenger\x00{key}")
            await client.hset("tl:inbox_payload", str(item_id), payload)
            await client.zadd("tl:inbox_pending:messenger", {str(item_id): item_id})
    finally:
        await client.aclose()


async def test_items_stored_before_the_upgrade_get_their_person(store_url: str, tmp_path: Path) -> None:
    scheme = urlsplit(store_url).scheme
    if scheme == "sqlite":
        _sqlite(Path(urlsplit(store_url).path))
    elif scheme == "redis":
        await _redis(store_url)
    else:
        await _postgres(store_url)
    store = open_store(store_url, tmp_path)
    await store.open()
    try:
        pending = await store.pending_inbound("messenger")
        assert [(item.payload, item.person) for item in pending] == [(payload, person) for _, payload, person in LEGACY]
        ana = [Identity("messenger", PSID), Identity("messenger", NUMERIC_PSID), Identity("messenger_ref", REF)]
        assert await store.delete_inbound_of(ana) == 4
        assert [item.payload for item in await store.pending_inbound("messenger")] == [LEGACY[4][1], "{not json"]
    finally:
        await store.close()
    again = open_store(store_url, tmp_path)  # the migration ran once: opening again changes nothing
    await again.open()
    try:
        assert len(await again.pending_inbound("messenger")) == 2
    finally:
        await again.close()
