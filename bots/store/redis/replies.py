"""Redis replies as the type checker should see them.

redis-py types a reply as ``bytes | str`` because it cannot know how the client was opened; ours always is
with ``decode_responses=True`` (:mod:`bots.store.redis.core`), so every reply is ``str``. These say so once,
instead of at every call; they do nothing at run time.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast


def text(reply: bytes | str) -> str:
    return cast(str, reply)


def texts(reply: Iterable[Any]) -> list[str]:
    """A list reply (``ZRANGE``, ``LRANGE``, ``HMGET`` of present fields, ...) as the list it is."""
    return cast(list[str], reply)


def fields(reply: Iterable[Any]) -> list[Any]:
    """``HMGET``'s reply: a str per field, None where the field is missing."""
    return cast(list[Any], reply)
