"""The shared PostgreSQL store; see store.py."""

from bots.store.postgres.options import keep_session
from bots.store.postgres.store import PostgresThreadStore

__all__ = ["PostgresThreadStore", "keep_session"]
