"""What the contract tests share besides the ``store`` fixture."""

from __future__ import annotations

from pathlib import Path

from bots.store.base import ThreadStore
from bots.store.factory import open_store
from bots.types import ThreadEvent


def event(kind: str, n: int, message_id: str | None = None, channel: str = "rest") -> ThreadEvent:
    return ThreadEvent(
        kind, {"n": n, "text": f"héllo {n} 👟", "nested": {"list": [1, "ü", None]}}, 100.0 + n, channel, message_id
    )


async def reopen(store: ThreadStore, store_url: str, tmp_path: Path) -> ThreadStore:
    """The same store after a restart (the caller closes it)."""
    await store.close()
    again = open_store(store_url, tmp_path)
    await again.open()
    return again
