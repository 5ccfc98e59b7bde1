"""The shared store on PostgreSQL (asyncpg): several workers, on one machine or many, one database.

Each interface has a module of its own here (log, identities, maintenance,
inbox); ``core`` holds what they share, ``lock`` the thread lock, ``schema``
the migrations. Tables, rules, URL options and why the lock is safe:
docs/stores.md.
"""

from __future__ import annotations

from bots.store.base import ThreadLock, ThreadStore
from bots.store.postgres.identities import PostgresIdentities
from bots.store.postgres.inbox import PostgresInbox
from bots.store.postgres.keyed import PostgresRecords
from bots.store.postgres.log import PostgresLog
from bots.store.postgres.maintenance import PostgresMaintenance


class PostgresThreadStore(
    PostgresLog, PostgresIdentities, PostgresMaintenance, PostgresInbox, PostgresRecords, ThreadStore
):
    def thread_lock(self) -> ThreadLock:
        return self._lock
