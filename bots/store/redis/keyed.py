"""The Redis store's small records by kind and key: one hash per kind (``records:{kind}``)."""

from __future__ import annotations

from typing import Any

from bots.store.base import RecordTable
from bots.store.jsontext import as_json, from_json
from bots.store.redis.core import RedisCore


class RedisRecords(RedisCore, RecordTable):
    async def record(self, kind: str, key: str) -> dict[str, Any] | None:
        value = await self.client.hget(self.keys("records", kind), key)
        return from_json(value) if value is not None else None

    async def records(self, kind: str) -> dict[str, dict[str, Any]]:
        found = await self.client.hgetall(self.keys("records", kind))
        return {str(key): from_json(found[key]) for key in sorted(found)}

    async def put_record(self, kind: str, key: str, value: dict[str, Any]) -> None:
        await self.client.hset(self.keys("records", kind), key, as_json(value))

    async def add_record(self, kind: str, key: str, value: dict[str, Any]) -> dict[str, Any]:
        await self.client.hsetnx(self.keys("records", kind), key, as_json(value))
        kept = await self.record(kind, key)
        assert kept is not None  # records are only deleted on purpose
        return kept

    async def delete_record(self, kind: str, key: str) -> bool:
        return bool(await self.client.hdel(self.keys("records", kind), key))
