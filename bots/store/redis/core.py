"""What every part of the Redis store shares: its client, its scripts, and how events become arguments.

Durability holds across a Redis restart only with ``appendonly yes``; :meth:`RedisCore.open` warns when it
can see that persistence is off (docs/stores.md).
"""

from __future__ import annotations

import logging
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bots.errors import UserError
from bots.store.jsontext import as_json, from_json
from bots.store.records import ConflictError, SchemaTooNew
from bots.store.redis.lock import RedisThreadLock
from bots.store.redis.lua import Keys, register_scripts
from bots.store.redis.schema import migrate
from bots.store.urls import redacted, split_options
from bots.types import INBOUND_KINDS, ThreadEvent

log = logging.getLogger(__name__)

DEFAULT_LEASE_SECONDS = 30.0
MAX_CONNECTIONS = 100  # per store object, i.e. per worker process
POOL_WAIT_SECONDS = 30.0


def wake_arg(wake_at: float | None) -> str:
    return "" if wake_at is None else repr(float(wake_at))


def event_args(events: list[ThreadEvent]) -> list[str]:
    """Four script arguments per event. Like the SQLite store, only inbound events keep their message id."""
    args: list[str] = []
    for e in events:
        inbound = e.kind in INBOUND_KINDS
        message_id = e.message_id if inbound else None
        args += [
            e.kind,
            "1" if message_id is not None else "0",
            message_id or "",
            as_json([e.timestamp, e.kind, e.channel, message_id, e.data]),
        ]
    return args


def event_of(record: str) -> ThreadEvent:
    timestamp, kind, channel, message_id, data = from_json(record)
    return ThreadEvent(kind, data, float(timestamp), channel, message_id)


def checked(result: list[Any]) -> int:
    """A script's {1, version}, or its {0, reason} raised as a conflict."""
    if int(result[0]) != 1:
        raise ConflictError(str(result[1]))
    return int(result[1])


class RedisCore:
    """``redis://[user:password@]host[:port]/db?lock_lease=30&prefix=tl:`` plus any redis-py URL option.

    Nothing is cached: other workers write the same keys, so every read goes to Redis (one round trip each).
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.safe_url = redacted(url)
        self._redis_url, given = split_options(url)
        ours = {"lock_lease": str(DEFAULT_LEASE_SECONDS), "prefix": "tl:", **given}
        try:
            self.lease = float(ours["lock_lease"])
        except ValueError:
            self.lease = 0.0
        if not self.lease > 0:
            raise UserError(f"store {self.safe_url}: lock_lease must be a number of seconds above 0")
        self.keys = Keys(ours["prefix"])
        self._client: aioredis.Redis | None = None
        self._lock: RedisThreadLock | None = None
        self._scripts: dict[str, Any] = {}

    @property
    def client(self) -> aioredis.Redis:
        if self._client is None:
            raise RuntimeError("the Redis store is not open")
        return self._client

    async def open(self) -> None:
        try:
            # A blocking pool: a burst of more concurrent calls than connections waits for a free connection
            # instead of failing with "Too many connections" (redis-py's default pool caps at 100 and raises).
            # max_connections= and timeout= in the URL override these.
            pool = aioredis.BlockingConnectionPool.from_url(
                self._redis_url, decode_responses=True, max_connections=MAX_CONNECTIONS, timeout=POOL_WAIT_SECONDS
            )
            client = aioredis.Redis.from_pool(pool)
        except (ValueError, TypeError) as exc:
            raise UserError(f"store {self.safe_url}: cannot connect: {exc}") from None
        try:
            await client.ping()
            scripts = register_scripts(client, self.keys)
            await migrate(client, self.keys, scripts)
        except (RedisError, OSError, TypeError, ValueError, SchemaTooNew) as exc:  # TypeError: an unknown option
            await client.aclose()
            problem = "cannot bring its layout up to date" if isinstance(exc, SchemaTooNew) else "cannot connect"
            raise UserError(f"store {self.safe_url}: {problem}: {exc}") from None
        self._client, self._scripts = client, scripts
        try:
            appendonly = (await client.config_get("appendonly")).get("appendonly")
        except RedisError:
            return  # CONFIG is often disabled on managed Redis; nothing to learn then
        if appendonly != "yes":
            log.warning(
                "store %s: Redis runs without appendonly: acknowledged messages are lost if Redis "
                "restarts (set appendonly yes and appendfsync everysec)",
                self.safe_url,
            )

    async def close(self) -> None:
        if self._lock is not None:
            await self._lock.close()
            self._lock = None
        if self._client is not None:
            await self._client.aclose()
            await self._client.connection_pool.disconnect()
            self._client = None

    async def _run(self, script: str, args: list[Any]) -> Any:
        return await self._scripts[script](args=args)
