"""The SQLite store's identity table (cached, this process being the only writer) and its link-token ledger."""

from __future__ import annotations

import sqlite3

from bots.store.base import IdentityTable, TokenLedger
from bots.store.records import TOKEN_GRACE_SECONDS, new_thread_id
from bots.store.sqlite.core import NO_SNAPSHOT, SQLiteCore
from bots.types import Identity

FIND = "SELECT thread_id FROM identities WHERE channel = ? AND user_id = ?"


INSERT = "INSERT OR IGNORE INTO identities (channel, user_id, thread_id, created_at) VALUES (?, ?, ?, ?)"
RETURNING = sqlite3.sqlite_version_info >= (3, 35, 0)  # INSERT ... RETURNING came with SQLite 3.35 (2021)


def _resolve(db: sqlite3.Connection, identity: Identity, now: float) -> tuple[str, bool]:
    """The identity's thread, and whether it was created here (a new customer's)."""
    row = (identity.channel, identity.user_id, new_thread_id(), now)
    if RETURNING:  # a row only when this inserted it: one statement for a new customer, two otherwise
        made = db.execute(f"{INSERT} RETURNING thread_id", row).fetchall()
        if made:
            return str(made[0][0]), True
        created = False
    else:
        created = db.execute(INSERT, row).rowcount > 0
    return str(db.execute(FIND, (identity.channel, identity.user_id)).fetchone()[0]), created


def _link(db: sqlite3.Connection, identity: Identity, thread_id: str, now: float) -> None:
    db.execute(
        "INSERT INTO identities (channel, user_id, thread_id, created_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (channel, user_id) DO UPDATE SET thread_id = excluded.thread_id",
        (identity.channel, identity.user_id, thread_id, now),
    )


class SQLiteIdentities(SQLiteCore, IdentityTable, TokenLedger):
    async def resolve_or_create(self, identity: Identity, *, now: float) -> tuple[str, bool]:
        cached = self._identity_cache.get_fresh(identity)
        if cached is not None:
            return cached, False
        # Not cached: most often a new customer. Straight into the group commit (no read first): the identity
        # shares its transaction and fsync with the writes waiting at that moment (other customers' turns),
        # and one not new costs an insert that is ignored (no write) instead of the read it would have cost.
        thread_id, created = await self._queued(lambda db: _resolve(db, identity, now))
        self._identity_cache.put(identity, thread_id)
        if created:  # the only writer knows it has nothing stored, whoever reads it: the widget's hello too
            self._snapshot_cache.put(thread_id, NO_SNAPSHOT)
        return thread_id, created

    def _find(self, identity: Identity) -> str | None:
        row = self.reader.execute(FIND, (identity.channel, identity.user_id)).fetchone()
        return str(row[0]) if row else None

    async def find(self, identity: Identity) -> str | None:
        cached = self._identity_cache.get_fresh(identity)
        if cached is not None:
            return cached
        found = await self._read(self._find, identity)
        if found is not None:
            self._identity_cache.put(identity, found)
        return found

    async def link(self, identity: Identity, thread_id: str, *, now: float) -> None:
        self._identity_cache.pop(identity, None)
        await self._queued(lambda db: _link(db, identity, thread_id, now))
        self._identity_cache.put(identity, thread_id)

    def _identities(self, thread_id: str) -> list[Identity]:
        rows = self.reader.execute(
            "SELECT channel, user_id FROM identities WHERE thread_id = ? ORDER BY created_at, channel, user_id",
            (thread_id,),
        ).fetchall()
        return [Identity(channel, user_id) for channel, user_id in rows]

    async def identities(self, thread_id: str) -> list[Identity]:
        return await self._read(self._identities, thread_id)

    # ------------------------------------------------------------------ link tokens

    def _consume_token(self, nonce: str, expires_at: float, now: float, by: str) -> bool:
        with self.transaction() as db:
            # kept a while past expiry: a token's age is checked in whole seconds, and servers' clocks differ
            db.execute("DELETE FROM used_link_tokens WHERE expires_at < ?", (now - TOKEN_GRACE_SECONDS,))
            inserted = db.execute(
                "INSERT OR IGNORE INTO used_link_tokens (nonce, used_at, expires_at, used_by) VALUES (?, ?, ?, ?)",
                (nonce, now, expires_at, by),
            ).rowcount
            user = db.execute("SELECT used_by FROM used_link_tokens WHERE nonce = ?", (nonce,)).fetchone()
        return inserted == 1 or (bool(by) and user is not None and user[0] == by)

    async def consume_token(self, nonce: str, *, expires_at: float, now: float, by: str = "") -> bool:
        return await self._write(self._consume_token, nonce, expires_at, now, by)
