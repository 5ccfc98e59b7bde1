"""The figures of every thread in the store, read for the JSON endpoint and ``/metrics``.

Computed from the shared store, not from counters in one process: every worker answers the same
figures, a restart loses nothing, and no multiprocess metrics directory is needed. Reading every
thread costs time with many threads, so one reading is reused for :data:`CACHE_SECONDS` per worker.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from bots.handoff.figures import KINDS, DayFigures, per_day
from bots.handoff.hours import BusinessHours
from bots.store.base import ThreadLog
from bots.types import ThreadEvent

CACHE_SECONDS = 15.0
MAX_DAYS = 90  # the figures' longest window
PAGE = 500
MAX_EVENTS_PER_THREAD = 100_000
BUCKETS = (30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 4 * 3600.0, 24 * 3600.0)


@dataclass(frozen=True)
class Reading:
    at: float
    days: dict[date, DayFigures]
    agents_online: int | None  # None: unknown (the live bus is down)

    def window(self, last_day: date, count: int) -> list[DayFigures]:
        """``count`` days up to ``last_day``, oldest first; a quiet day is there with zeros."""
        wanted = [last_day - timedelta(days=n) for n in range(count - 1, -1, -1)]
        return [self.days.get(day, DayFigures(day)) for day in wanted]


class FiguresReader:
    def __init__(
        self,
        log: ThreadLog,
        hours: BusinessHours,
        online: Callable[[], Awaitable[int | None]],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._log = log
        self.hours = hours
        self._online = online
        self.clock = clock
        self._last: Reading | None = None
        self._lock = asyncio.Lock()

    async def read(self) -> Reading:
        async with self._lock:  # concurrent scrapes share one reading
            now = self.clock()
            if self._last is not None and 0 <= now - self._last.at < CACHE_SECONDS:
                return self._last
            days = per_day(await self._threads(), self.hours.day, now)
            self._last = Reading(now, days, await self._online())
            return self._last

    async def _threads(self) -> list[list[ThreadEvent]]:
        threads: list[list[ThreadEvent]] = []
        after = ""
        while page := await self._log.thread_ids(after=after, limit=PAGE):
            for thread_id in page:
                stored = await self._log.tail(thread_id, KINDS, MAX_EVENTS_PER_THREAD)
                threads.append([e.event for e in stored])
            after = page[-1]
        return threads


class FiguresCollector(Collector):
    """prometheus-client's view of one reading: totals over all time (use ``increase()`` for a day)."""

    def __init__(self, reading: Reading) -> None:
        self._reading = reading

    def collect(self) -> Iterator[Metric]:
        days = self._reading.days.values()
        handoffs = [h for day in days for h in day.handoffs]
        conversations = CounterMetricFamily(
            "threadline_conversations", "Conversations (a thread a customer wrote in, per day)"
        )
        conversations.add_metric([], sum(d.conversations for d in days))
        queued = CounterMetricFamily("threadline_handoffs", "Conversations that entered the hand-off queue")
        queued.add_metric([], len(handoffs))
        resolved = CounterMetricFamily(
            "threadline_resolved", "Conversations resolved, by the bot or by a person", labels=["by"]
        )
        resolved.add_metric(["bot"], sum(d.resolved_by_bot for d in days))
        resolved.add_metric(["person"], sum(h.first_response is not None for h in handoffs))
        waiting = GaugeMetricFamily(
            "threadline_handoff_waiting", "Conversations in the queue that no person has answered"
        )
        waiting.add_metric([], sum(h.waiting for h in handoffs))
        yield from (conversations, queued, resolved, waiting)
        if self._reading.agents_online is not None:
            agents = GaugeMetricFamily("threadline_agents_online", "Agents' inbox connections open now")
            agents.add_metric([], self._reading.agents_online)
            yield agents
        yield _histogram(
            "threadline_handoff_wait_seconds",
            "Time in the queue until answered, released or now",
            [h.waited for h in handoffs],
        )
        yield _histogram(
            "threadline_first_response_seconds",
            "Time from entering the queue to a person's first message",
            [h.first_response for h in handoffs if h.first_response is not None],
        )


def _histogram(name: str, documentation: str, values: list[float]) -> HistogramMetricFamily:
    buckets = [(str(bound), float(sum(v <= bound for v in values))) for bound in BUCKETS]
    buckets.append(("+Inf", float(len(values))))
    family = HistogramMetricFamily(name, documentation)
    family.add_metric([], buckets, sum_value=sum(values))
    return family


def days_param(raw: str) -> int | None:
    """The ``days`` query parameter: 1 to :data:`MAX_DAYS`, ASCII digits only; None when it is not."""
    return int(raw) if re.fullmatch(r"[0-9]{1,3}", raw) and 1 <= int(raw) <= MAX_DAYS else None


def figures_json(reading: Reading, hours: BusinessHours, days: int) -> dict[str, object]:
    """What ``/api/handoff/figures`` and the inbox answer: ``days`` days up to today in the hours' time zone."""
    return {
        "timezone": str(hours.zone),
        "agents_online": reading.agents_online,
        "open_now": hours.is_open(reading.at),
        "days": [day.as_json() for day in reading.window(hours.day(reading.at), days)],
    }
