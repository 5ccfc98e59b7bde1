"""The Redis store's layout version (key ``schema``; none stands for 1, the layout before it was kept).

2: webhook inbox items name the person they concern (``inbox_person`` and
``inbox_of:{person}``), so forgetting a thread deletes its people's items
without the store reading any channel's payloads.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis

from bots.store.legacy_inbox import CHANNEL, messenger_person
from bots.store.records import SchemaTooNew
from bots.store.redis.lua import Keys
from bots.store.redis.replies import text

LATEST = 2
PAGE = 1000


async def _inbox_persons(client: aioredis.Redis, keys: Keys, apply: Any) -> None:
    """One-time: the items stored before named their person only inside Messenger's JSON, which this step
    reads (bots/store/legacy_inbox.py); nothing else ever does. The script applies it and moves to schema 2
    atomically, so of workers upgrading at once the first one does it."""
    ids = list((await client.hgetall(keys("inbox_dedupe", CHANNEL))).values())
    people: list[str] = []
    for start in range(0, len(ids), PAGE):
        page = ids[start : start + PAGE]
        for item_id, payload in zip(page, await client.hmget(keys("inbox_payload"), page), strict=True):
            person = messenger_person(text(payload)) if payload is not None else None
            if person is not None:
                people += [text(item_id), keys.member(person)]
    await apply(args=people)


async def migrate(client: aioredis.Redis, keys: Keys, scripts: dict[str, Any]) -> int:
    """Bring the layout up to date; returns the version it is at."""
    found = int(await client.get(keys("schema")) or 1)
    if found > LATEST:
        raise SchemaTooNew(found, LATEST)
    if found < 2:
        await _inbox_persons(client, keys, scripts["schema_2"])
    return LATEST
