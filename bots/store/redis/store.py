"""The Redis store: several workers on several machines share threads through one Redis server.

Each interface has a module of its own here (log, identities, maintenance,
inbox); ``core`` holds what they share, ``lock`` the thread lock, ``lua`` the
key layout and the scripts in scripts/*.lua, ``schema`` the layout version.
Durability, atomicity, the layout and why the lock is safe: docs/stores.md.
"""

from __future__ import annotations

from bots.store.base import ThreadLock, ThreadStore
from bots.store.redis.identities import RedisIdentities
from bots.store.redis.inbox import RedisInbox
from bots.store.redis.keyed import RedisRecords
from bots.store.redis.lock import RedisThreadLock
from bots.store.redis.log import RedisLog
from bots.store.redis.maintenance import RedisMaintenance


class RedisThreadStore(RedisLog, RedisIdentities, RedisMaintenance, RedisInbox, RedisRecords, ThreadStore):
    def thread_lock(self) -> ThreadLock:
        # one per store, so close() can stop its lease refresher and its pub/sub listener
        if self._lock is None:
            self._lock = RedisThreadLock(
                self.client, self.keys, self.lease, self._scripts["acquire"], self._scripts["release"]
            )
        return self._lock
