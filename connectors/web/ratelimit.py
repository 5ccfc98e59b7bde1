"""Per-visitor rate limiting: a token bucket per key, kept for a bounded number of keys."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

MAX_KEYS = 50_000


class RateLimiter:
    def __init__(self, messages: int, per_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(messages)
        self.rate = messages / per_seconds
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def allow(self, key: str) -> bool:
        now = self.clock()
        tokens, since = self._buckets.pop(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - since) * self.rate)
        allowed = tokens >= 1.0
        self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        while len(self._buckets) > MAX_KEYS:
            self._buckets.popitem(last=False)
        return allowed

    def retry_after(self, key: str) -> float:
        tokens, _since = self._buckets.get(key, (self.capacity, 0.0))
        return max(0.0, (1.0 - tokens) / self.rate)
