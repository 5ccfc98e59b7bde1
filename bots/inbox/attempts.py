"""Failed sign-ins, counted in the store, so that every worker counts the same ones: with several workers an
attacker gets no more tries than with one.

Each failure is a record of its own (kind ``sign_in_failure``), written with one insert and never updated, so
two workers counting at the same moment lose none of them (a counter read and written back would). A record
names its account or address only by a hash (no address is kept in the clear) and is deleted once it is older
than the longest window, whenever the failures are read: the table holds the last 15 minutes' failures.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from bots.store.base import RecordTable

KIND = "sign_in_failure"


@dataclass(frozen=True)
class Limit:
    """At most ``failures`` failed sign-ins within any ``seconds`` (a moving window)."""

    failures: int
    seconds: float


def _digest(subject: str) -> str:
    return hashlib.sha256(subject.encode("utf-8", "replace")).hexdigest()[:32]


class FailedSignIns:
    def __init__(self, records: RecordTable, clock: Callable[[], float] = time.time) -> None:
        self.records = records
        self.clock = clock

    async def wait(self, limits: dict[str, Limit]) -> int:
        """Whole seconds until a sign-in of these subjects (``account:ana``, ``address:...``) may be tried; 0: now."""
        now = self.clock()
        horizon = max(limit.seconds for limit in limits.values())
        times: dict[str, list[float]] = {}
        for key, record in (await self.records.records(KIND)).items():
            at = float(record.get("at", 0.0))
            if at <= now - horizon:
                await self.records.delete_record(KIND, key)  # out of every window
            else:
                times.setdefault(str(record.get("subject")), []).append(at)
        wait = 0.0
        for subject, limit in limits.items():
            recent = sorted(at for at in times.get(_digest(subject), []) if at > now - limit.seconds)
            if len(recent) >= limit.failures:  # free again when the oldest of the last `failures` leaves the window
                wait = max(wait, recent[-limit.failures] + limit.seconds - now, 1.0)
        return math.ceil(wait)

    async def failed(self, subjects: list[str]) -> None:
        now = self.clock()
        for subject in subjects:
            digest = _digest(subject)
            await self.records.put_record(
                KIND, f"{digest}:{now:.6f}:{secrets.token_hex(6)}", {"subject": digest, "at": now}
            )
