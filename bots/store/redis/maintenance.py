"""The Redis store's whole-thread operations: merging two threads, forgetting one, importing a copy."""

from __future__ import annotations

from typing import Any

from bots.store.base import Maintenance
from bots.store.jsontext import as_json
from bots.store.records import ThreadDump
from bots.store.redis.core import RedisCore, checked, event_args, wake_arg
from bots.store.redis.replies import texts
from bots.types import Identity, ThreadEvent


class RedisMaintenance(RedisCore, Maintenance):
    async def merge_threads(
        self,
        into: str,
        source: str,
        events: list[ThreadEvent],
        state: dict[str, Any],
        *,
        expected_versions: tuple[int, int],
        now: float,
        wake_at: float | None,
    ) -> int:
        return checked(
            await self._run(
                "merge",
                [
                    into,
                    source,
                    *expected_versions,
                    as_json(state),
                    now,
                    wake_arg(wake_at),
                    len(events),
                    *event_args(events),
                ],
            )
        )

    async def merged_into(self, thread_id: str) -> str | None:
        found = await self.client.get(self.keys("merged", thread_id))
        return str(found) if found is not None else None

    async def merged_sources(self, thread_id: str) -> list[str]:
        return sorted(texts(await self.client.smembers(self.keys("merges_into", thread_id))))

    async def delete_thread(self, thread_id: str) -> list[Identity]:
        found = await self._run("delete", [thread_id])  # with its people's inbox items, in one script
        pairs = sorted((float(found[i + 1]), found[i]) for i in range(0, len(found), 2))
        return [self.keys.identity(member) for _created, member in pairs]

    async def import_thread(self, dump: ThreadDump) -> None:
        snapshot = dump.snapshot
        people = [
            arg
            for order, identity in enumerate(dump.identities)
            for arg in (self.keys.member(identity), snapshot.created_at + order * 1e-6)
        ]
        checked(
            await self._run(
                "import",
                [
                    snapshot.thread_id,
                    as_json(snapshot.state),
                    snapshot.created_at,
                    snapshot.updated_at,
                    wake_arg(dump.wake_at),
                    len(dump.identities),
                    *people,
                    len(dump.merged_from),
                    *dump.merged_from,
                    len(dump.events),
                    *event_args(dump.events),
                ],
            )
        )
