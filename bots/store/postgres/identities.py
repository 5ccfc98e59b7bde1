"""The PostgreSQL store's identity table and its link-token ledger."""

from __future__ import annotations

from bots.store.base import IdentityTable, TokenLedger
from bots.store.postgres.core import PostgresCore
from bots.store.records import TOKEN_GRACE_SECONDS, new_thread_id
from bots.types import Identity

# The identity's thread, or a new one made for it (ON CONFLICT DO NOTHING: another worker made it meanwhile, and
# this statement cannot see it; the caller asks again)
RESOLVE = (
    "WITH found AS (SELECT thread_id FROM identities WHERE channel = $1 AND user_id = $2), "
    "made AS (INSERT INTO identities (channel, user_id, thread_id, created_at) "
    "SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM found) "
    "ON CONFLICT (channel, user_id) DO NOTHING RETURNING thread_id) "
    "SELECT thread_id FROM found UNION ALL SELECT thread_id FROM made"
)


class PostgresIdentities(PostgresCore, IdentityTable, TokenLedger):
    async def resolve_or_create(self, identity: Identity, *, now: float) -> tuple[str, bool]:
        while True:  # found or made in one round trip; of racing workers one makes it, the others go round again
            made = new_thread_id()
            found = await self._db.fetchval(RESOLVE, identity.channel, identity.user_id, made, now)
            if found is not None:
                return str(found), found == made

    async def find(self, identity: Identity) -> str | None:
        found = await self._db.fetchval(
            "SELECT thread_id FROM identities WHERE channel = $1 AND user_id = $2", identity.channel, identity.user_id
        )
        return str(found) if found is not None else None

    async def link(self, identity: Identity, thread_id: str, *, now: float) -> None:
        await self._db.execute(
            "INSERT INTO identities (channel, user_id, thread_id, created_at) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (channel, user_id) DO UPDATE SET thread_id = excluded.thread_id",
            identity.channel,
            identity.user_id,
            thread_id,
            now,
        )

    async def identities(self, thread_id: str) -> list[Identity]:
        rows = await self._db.fetch(
            "SELECT channel, user_id FROM identities WHERE thread_id = $1 ORDER BY created_at, channel, user_id",
            thread_id,
        )
        return [Identity(row["channel"], row["user_id"]) for row in rows]

    async def consume_token(self, nonce: str, *, expires_at: float, now: float, by: str = "") -> bool:
        async with self._db.acquire() as db, db.transaction():
            # kept a while past expiry: a token's age is checked in whole seconds, and servers' clocks differ
            await db.execute("DELETE FROM used_link_tokens WHERE expires_at < $1", now - TOKEN_GRACE_SECONDS)
            inserted = await db.fetchval(
                "INSERT INTO used_link_tokens (nonce, used_at, expires_at, used_by) "
                "VALUES ($1, $2, $3, $4) ON CONFLICT (nonce) DO NOTHING RETURNING true",
                nonce,
                now,
                expires_at,
                by,
            )
            user = await db.fetchval("SELECT used_by FROM used_link_tokens WHERE nonce = $1", nonce)
        return bool(inserted) or (bool(by) and user == by)
