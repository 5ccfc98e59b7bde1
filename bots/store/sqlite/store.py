"""The embedded default store: one SQLite file in WAL mode, written by one process.

Each interface has a module of its own here (log, identities, maintenance,
inbox); ``core`` holds what they share. How it keeps its promises (group
commit, caches): docs/stores.md.
"""

from __future__ import annotations

from bots.store.base import ThreadLock, ThreadStore
from bots.store.local_lock import LocalThreadLock
from bots.store.sqlite.identities import SQLiteIdentities
from bots.store.sqlite.inbox import SQLiteInbox
from bots.store.sqlite.keyed import SQLiteRecords
from bots.store.sqlite.log import SQLiteLog
from bots.store.sqlite.maintenance import SQLiteMaintenance


class SQLiteThreadStore(SQLiteLog, SQLiteIdentities, SQLiteMaintenance, SQLiteInbox, SQLiteRecords, ThreadStore):
    def thread_lock(self) -> ThreadLock:
        # one process writes the file: an in-process lock is the whole story
        return LocalThreadLock()
