"""The names of the locks: built here only, so every path that serialises on a thread agrees on them."""

from __future__ import annotations

from bots.types import Identity


def thread_key(thread_id: str) -> str:
    return f"thread:{thread_id}"


def identity_key(identity: Identity) -> str:
    """An identity's lock is taken before its thread's: messages of one customer queue in arrival order."""
    return f"identity:{identity.channel}:{identity.user_id}"
