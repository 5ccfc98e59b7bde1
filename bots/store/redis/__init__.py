"""The shared Redis store; see store.py."""

from bots.store.redis.store import RedisThreadStore

__all__ = ["RedisThreadStore"]
