"""The PostgreSQL store's small records by kind and key (agent accounts, the agent inbox's conversations)."""

from __future__ import annotations

from typing import Any

from bots.store.base import RecordTable
from bots.store.jsontext import as_json, from_json
from bots.store.postgres.core import PostgresCore


class PostgresRecords(PostgresCore, RecordTable):
    async def record(self, kind: str, key: str) -> dict[str, Any] | None:
        value = await self._db.fetchval("SELECT value FROM records WHERE kind = $1 AND key = $2", kind, key)
        return from_json(value) if value is not None else None

    async def records(self, kind: str) -> dict[str, dict[str, Any]]:
        rows = await self._db.fetch("SELECT key, value FROM records WHERE kind = $1 ORDER BY key", kind)
        return {row["key"]: from_json(row["value"]) for row in rows}

    async def put_record(self, kind: str, key: str, value: dict[str, Any]) -> None:
        await self._db.execute(
            "INSERT INTO records (kind, key, value) VALUES ($1, $2, $3) "
            "ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value",
            kind,
            key,
            as_json(value),
        )

    async def add_record(self, kind: str, key: str, value: dict[str, Any]) -> dict[str, Any]:
        await self._db.execute(
            "INSERT INTO records (kind, key, value) VALUES ($1, $2, $3) ON CONFLICT (kind, key) DO NOTHING",
            kind,
            key,
            as_json(value),
        )
        kept = await self.record(kind, key)
        assert kept is not None  # records are only deleted on purpose, never between these two statements' callers
        return kept

    async def delete_record(self, kind: str, key: str) -> bool:
        status = await self._db.execute("DELETE FROM records WHERE kind = $1 AND key = $2", kind, key)
        return str(status) != "DELETE 0"
