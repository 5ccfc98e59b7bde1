"""The Redis store's key layout and its Lua scripts (scripts/*.lua, shipped as package data).

Every change that touches more than one key is one script, which Redis runs
with nothing else in between; helpers.lua is prepended to each, after the
definition of ``key(...)`` with this store's prefix baked in.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import redis.asyncio as aioredis

from bots.types import Identity

SCRIPTS = (
    "commit",
    "merge",
    "delete",
    "import",
    "resolve",
    "link",
    "tail",
    "turn",
    "token",
    "enqueue",
    "finish",
    "forget_inbox",
    "mark_sent",
    "acquire",
    "release",
    "schema_2",
)


class Keys:
    """The key layout, in one place: ``{prefix}{name}:{part}:{part}``. The Lua side builds keys by the same
    rule (``key(name, ...)``), with the prefix baked into the script text."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def __call__(self, name: str, *parts: str) -> str:
        return self.prefix + ":".join((name, *parts))

    @staticmethod
    def member(identity: Identity) -> str:
        """An identity as one string; NUL sorts first, so members order by (channel, user id)."""
        return f"{identity.channel}\x00{identity.user_id}"

    @staticmethod
    def identity(member: str) -> Identity:
        channel, _, user_id = member.partition("\x00")
        return Identity(channel, user_id)

    def lua(self) -> str:
        """The Lua definition of the same rule."""
        literal = "".join(f"\\{byte}" for byte in self.prefix.encode())
        return f"local P = \"{literal}\"\nlocal function key(...) return P .. table.concat({{...}}, ':') end\n"


def _source(name: str) -> str:
    return (resources.files(__package__) / "scripts" / f"{name}.lua").read_text(encoding="utf-8")


def register_scripts(client: aioredis.Redis, keys: Keys) -> dict[str, Any]:
    """Every script, ready to run (redis-py sends it once, then runs it by its hash)."""
    preamble = keys.lua() + _source("helpers")
    return {name: client.register_script(preamble + _source(name)) for name in SCRIPTS}
