"""The Redis store's thread log and snapshots, and the wake-up index (a sorted set of threads by wake_at)."""

from __future__ import annotations

from typing import Any

from bots.store.base import ThreadLog, WakeIndex
from bots.store.jsontext import as_json, from_json
from bots.store.records import Snapshot
from bots.store.redis.core import RedisCore, checked, event_args, event_of, wake_arg
from bots.store.redis.lock import refuse_if_lock_lost
from bots.store.redis.replies import fields, text, texts
from bots.types import INBOUND_KINDS, StoredEvent, ThreadEvent


class RedisLog(RedisCore, ThreadLog, WakeIndex):
    async def load(self, thread_id: str) -> Snapshot | None:
        version, state, created_at, updated_at = fields(
            await self.client.hmget(self.keys("thread", thread_id), "version", "state", "created_at", "updated_at")
        )
        if version is None:
            return None
        return Snapshot(thread_id, from_json(state), int(version), float(created_at), float(updated_at))

    async def commit(
        self,
        thread_id: str,
        state: dict[str, Any],
        events: list[ThreadEvent],
        *,
        expected_version: int,
        now: float,
        wake_at: float | None,
    ) -> int:
        refuse_if_lock_lost()
        return checked(
            await self._run(
                "commit",
                [thread_id, expected_version, as_json(state), now, wake_arg(wake_at), len(events), *event_args(events)],
            )
        )

    async def events(self, thread_id: str, *, after: int = 0, limit: int = 1000) -> list[StoredEvent]:
        after = max(after, 0)
        if limit <= 0:
            return []
        records = await self.client.lrange(self.keys("events", thread_id), after, after + limit - 1)
        return [
            StoredEvent(thread_id, after + offset, event_of(text(record))) for offset, record in enumerate(records, 1)
        ]

    async def tail(self, thread_id: str, kinds: tuple[str, ...], limit: int) -> list[StoredEvent]:
        if not kinds or limit <= 0:
            return []
        found = await self._run("tail", [thread_id, limit, *kinds])
        return [StoredEvent(thread_id, int(found[i]), event_of(found[i + 1])) for i in range(0, len(found), 2)]

    async def turn_events(self, thread_id: str, message_id: str) -> list[StoredEvent]:
        found = await self._run("turn", [thread_id, message_id, *INBOUND_KINDS])
        if not found:
            return []
        first, records = int(found[0]), found[1]
        return [StoredEvent(thread_id, first + offset, event_of(record)) for offset, record in enumerate(records)]

    async def has_message(self, thread_id: str, message_id: str) -> bool:
        return bool(await self.client.hexists(self.keys("msgids", thread_id), message_id))

    async def thread_ids(self, *, after: str = "", limit: int = 1000) -> list[str]:
        if limit <= 0:
            return []
        return texts(
            await self.client.zrangebylex(self.keys("threads"), "(" + after if after else "-", "+", start=0, num=limit)
        )

    # ------------------------------------------------------------------ the wake-up index

    async def due_threads(self, *, now: float, limit: int = 100) -> list[str]:
        if limit <= 0:
            return []
        return texts(await self.client.zrangebyscore(self.keys("wake"), "-inf", now, start=0, num=limit))

    async def next_wake(self) -> float | None:
        first = await self.client.zrange(self.keys("wake"), 0, 0, withscores=True)
        return float(first[0][1]) if first else None

    async def wake_time(self, thread_id: str) -> float | None:
        found = await self.client.zscore(self.keys("wake"), thread_id)
        return float(found) if found is not None else None
