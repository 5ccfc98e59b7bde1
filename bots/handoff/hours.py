"""Business hours: is anyone meant to be answering at a given moment, in the team's time zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from bots.handoff.settings import WEEKDAYS, HoursConfig, parse_span


class BusinessHours:
    def __init__(self, config: HoursConfig) -> None:
        self.zone = ZoneInfo(config.timezone)
        self.always = not config.weekly
        self.holidays = frozenset(config.holidays)
        self.spans = {day: [parse_span(s) for s in spans] for day, spans in config.weekly.items()}

    def local(self, now: float) -> datetime:
        return datetime.fromtimestamp(now, self.zone)

    def day(self, now: float) -> date:
        """The team's calendar day at ``now``: what the per-day figures count by."""
        return self.local(now).date()

    def is_open(self, now: float) -> bool:
        moment = self.local(now)
        if moment.date() in self.holidays:
            return False
        if self.always:
            return True
        clock = moment.time().replace(tzinfo=None)
        return any(start <= clock < end for start, end in self.spans.get(WEEKDAYS[moment.weekday()], ()))
