"""The embedded SQLite store (one process); see store.py."""

from bots.store.sqlite.schema import MIGRATIONS
from bots.store.sqlite.store import SQLiteThreadStore

__all__ = ["MIGRATIONS", "SQLiteThreadStore"]
