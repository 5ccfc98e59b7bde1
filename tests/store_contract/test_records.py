"""RecordTable: small JSON records by kind and key, the same on every backend."""

from __future__ import annotations

import asyncio

from bots.store.base import RecordTable


async def test_records_are_kept_replaced_listed_and_deleted_by_kind(store: RecordTable) -> None:
    assert await store.record("agent", "ana") is None
    await store.put_record("agent", "ana", {"role": "agent", "name": "Ana Ñ"})
    await store.put_record("agent", "bo", {"role": "admin"})
    await store.put_record("conversation", "ana", {"status": "open"})
    await store.put_record("agent", "ana", {"role": "admin", "name": "Ana Ñ"})
    assert await store.record("agent", "ana") == {"role": "admin", "name": "Ana Ñ"}
    assert await store.records("agent") == {"ana": {"role": "admin", "name": "Ana Ñ"}, "bo": {"role": "admin"}}
    assert await store.delete_record("agent", "ana") is True
    assert await store.delete_record("agent", "ana") is False
    assert await store.records("agent") == {"bo": {"role": "admin"}}
    assert await store.records("conversation") == {"ana": {"status": "open"}}
    assert await store.records("nothing") == {}


async def test_of_racing_adds_the_first_is_kept_and_every_caller_gets_it(store: RecordTable) -> None:
    kept = await asyncio.gather(*(store.add_record("inbox", "secret", {"value": str(i)}) for i in range(10)))
    assert len({k["value"] for k in kept}) == 1
    assert await store.record("inbox", "secret") == kept[0]
    assert await store.add_record("inbox", "secret", {"value": "late"}) == kept[0]
