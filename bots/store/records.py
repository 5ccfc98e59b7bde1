"""What the store interfaces take and give: plain records, and the errors every backend raises."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any, NamedTuple

from bots.types import Identity, ThreadEvent

# A used link token is remembered this long past its expiry: a token's age is checked in whole seconds, and
# servers' clocks differ.
TOKEN_GRACE_SECONDS = 300


def new_thread_id() -> str:
    """Milliseconds since the epoch first, then a random UUID: the stores' indexes on thread ids then take new
    threads in one place (their end, or one region of a store that began with random ids) instead of on a
    random page each, so a commit writes fewer pages whatever the store's size. An id is as hard to guess as
    before; it tells when its thread began (a signed link token holding it shows that much)."""
    return f"t_{time.time_ns() // 1_000_000:012x}{uuid.uuid4().hex}"


class ConflictError(Exception):
    """The thread changed since it was loaded: someone wrote without holding its lock."""


class SchemaTooNew(Exception):
    """The store was written by a newer Threadline, whose schema this one does not know."""

    def __init__(self, found: int, known: int) -> None:
        super().__init__(
            f"the store's schema version {found} is newer than this Threadline ({known}); upgrade Threadline"
        )


@dataclass(frozen=True)
class Snapshot:
    thread_id: str
    state: dict[str, Any]
    version: int  # number of events in the log; the next event gets seq version + 1
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class ThreadDump:
    """Everything a thread is, for copying it to another store (``threadline migrate-store``)."""

    snapshot: Snapshot
    events: list[ThreadEvent]  # the whole log, seq 1..n
    identities: list[Identity]  # in the order they were linked
    merged_from: list[str]  # ids of threads merged into it, so their old ids still lead here
    wake_at: float | None  # when it next needs attention by itself, as the wake-up index has it


class PendingInbound(NamedTuple):
    """A stored item not processed yet."""

    id: int
    payload: str
    person: Identity | None = None
