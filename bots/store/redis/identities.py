"""The Redis store's identity table and its link-token ledger."""

from __future__ import annotations

from bots.store.base import IdentityTable, TokenLedger
from bots.store.records import TOKEN_GRACE_SECONDS, new_thread_id
from bots.store.redis.core import RedisCore
from bots.store.redis.replies import texts
from bots.types import Identity


class RedisIdentities(RedisCore, IdentityTable, TokenLedger):
    async def resolve_or_create(self, identity: Identity, *, now: float) -> tuple[str, bool]:
        # one round trip, found or made: the script looks the identity up first
        made = new_thread_id()
        found = str(await self._run("resolve", [self.keys.member(identity), made, now]))
        return found, found == made

    async def find(self, identity: Identity) -> str | None:
        found = await self.client.get(self.keys("identity", self.keys.member(identity)))
        return str(found) if found is not None else None

    async def link(self, identity: Identity, thread_id: str, *, now: float) -> None:
        await self._run("link", [self.keys.member(identity), thread_id, now])

    async def identities(self, thread_id: str) -> list[Identity]:
        members = texts(await self.client.zrange(self.keys("identities", thread_id), 0, -1))
        return [self.keys.identity(member) for member in members]

    async def consume_token(self, nonce: str, *, expires_at: float, now: float, by: str = "") -> bool:
        # kept a while past expiry, measured with the caller's clock: a token's age is checked in whole
        # seconds, and servers' clocks differ
        return bool(await self._run("token", [nonce, expires_at, now - TOKEN_GRACE_SECONDS, by]))
