"""Operator figures from threads' events, per day: pure arithmetic, so the rules are readable in one place.

- a conversation on a day: a thread in which the customer wrote that day;
- a hand-off: the conversation entered the queue (a ``handoff`` step or a paused conversation; not a person
  who simply answered, nor another app taking a Messenger thread);
- waiting time: from entering the queue until a person answered, or the hand-off ended, or now if it still waits;
- first response time: from entering the queue until a person's first message;
- resolved by a person: a hand-off a person answered; resolved by the bot: a conversation of that day
  in which the conversation never entered the queue and no person wrote. A hand-off nobody answered counts as neither.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from bots.handoff.desk import entered_queue
from bots.types import ThreadEvent

KINDS = ("user", "agent", "handoff")  # the events the figures read


@dataclass
class Handoff:
    day: date
    waited: float  # seconds; until now while still waiting
    first_response: float | None  # None: no person answered (yet)
    waiting: bool  # still in the queue, nobody has answered


@dataclass
class DayFigures:
    day: date
    conversations: int = 0
    resolved_by_bot: int = 0
    handoffs: list[Handoff] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        waits = [h.waited for h in self.handoffs]
        responses = [h.first_response for h in self.handoffs if h.first_response is not None]
        return {
            "day": self.day.isoformat(),
            "conversations": self.conversations,
            "handoffs": len(self.handoffs),
            "handoff_rate": round(len(self.handoffs) / self.conversations, 4) if self.conversations else None,
            "resolved_by_bot": self.resolved_by_bot,
            "resolved_by_person": len(responses),
            "still_waiting": sum(h.waiting for h in self.handoffs),
            "waiting_seconds": _summary(waits),
            "first_response_seconds": _summary(responses),
        }


def _summary(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"count": 0, "mean": None, "median": None, "max": None}
    return {
        "count": len(values),
        "mean": round(statistics.fmean(values), 1),
        "median": round(statistics.median(values), 1),
        "max": round(max(values), 1),
    }


def thread_handoffs(events: list[ThreadEvent], day_of: Callable[[float], date], now: float) -> list[Handoff]:
    """Each time the thread entered the queue, with how long it waited and when a person first answered."""
    found: list[Handoff] = []
    start: float | None = None
    for event in events:
        if start is None:
            if entered_queue(event):
                start = event.timestamp
            continue
        if event.kind == "agent" or (event.kind == "handoff" and event.data.get("active") is False):
            answered = event.kind == "agent"
            found.append(
                Handoff(day_of(start), event.timestamp - start, event.timestamp - start if answered else None, False)
            )
            start = None
    if start is not None:
        found.append(Handoff(day_of(start), max(0.0, now - start), None, True))
    return found


def per_day(
    threads: Iterable[list[ThreadEvent]], day_of: Callable[[float], date], now: float
) -> dict[date, DayFigures]:
    """Figures for every day anything happened, from each thread's events (oldest first, kinds in :data:`KINDS`)."""
    days: dict[date, DayFigures] = {}

    def of(day: date) -> DayFigures:
        return days.setdefault(day, DayFigures(day))

    for events in threads:
        handoffs = thread_handoffs(events, day_of, now)
        handed_off = {h.day for h in handoffs} | {day_of(e.timestamp) for e in events if e.kind == "agent"}
        for day in {day_of(e.timestamp) for e in events if e.kind == "user"}:
            of(day).conversations += 1
            if day not in handed_off:
                of(day).resolved_by_bot += 1
        for handoff in handoffs:
            of(handoff.day).handoffs.append(handoff)
    return days
