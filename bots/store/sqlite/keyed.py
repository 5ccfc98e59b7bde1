"""The SQLite store's small records by kind and key (agent accounts, the agent inbox's conversations)."""

from __future__ import annotations

from typing import Any

from bots.store.base import RecordTable
from bots.store.jsontext import as_json, from_json
from bots.store.sqlite.core import SQLiteCore


class SQLiteRecords(SQLiteCore, RecordTable):
    def _record(self, kind: str, key: str) -> dict[str, Any] | None:
        row = self.reader.execute("SELECT value FROM records WHERE kind = ? AND key = ?", (kind, key)).fetchone()
        return from_json(row[0]) if row else None

    async def record(self, kind: str, key: str) -> dict[str, Any] | None:
        return await self._read(self._record, kind, key)

    def _records(self, kind: str) -> dict[str, dict[str, Any]]:
        rows = self.reader.execute("SELECT key, value FROM records WHERE kind = ? ORDER BY key", (kind,)).fetchall()
        return {key: from_json(value) for key, value in rows}

    async def records(self, kind: str) -> dict[str, dict[str, Any]]:
        return await self._read(self._records, kind)

    def _put(self, kind: str, key: str, value: str) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO records (kind, key, value) VALUES (?, ?, ?) "
                "ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value",
                (kind, key, value),
            )

    async def put_record(self, kind: str, key: str, value: dict[str, Any]) -> None:
        await self._write(self._put, kind, key, as_json(value))

    def _add(self, kind: str, key: str, value: str) -> dict[str, Any]:
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO records (kind, key, value) VALUES (?, ?, ?)", (kind, key, value))
            kept = db.execute("SELECT value FROM records WHERE kind = ? AND key = ?", (kind, key)).fetchone()[0]
        return from_json(kept)  # type: ignore[no-any-return]

    async def add_record(self, kind: str, key: str, value: dict[str, Any]) -> dict[str, Any]:
        return await self._write(self._add, kind, key, as_json(value))

    def _delete(self, kind: str, key: str) -> bool:
        with self.transaction() as db:
            return db.execute("DELETE FROM records WHERE kind = ? AND key = ?", (kind, key)).rowcount > 0

    async def delete_record(self, kind: str, key: str) -> bool:
        return await self._write(self._delete, kind, key)
