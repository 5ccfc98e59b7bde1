"""What conditions and texts can read: the thread's slots and what it knows about the customer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bots.flow.model import Bot
from bots.flow.state import ThreadState


def context_values(
    bot: Bot, state: ThreadState, *, channel: str, event: dict[str, Any] | None = None, public_url: str = ""
) -> dict[str, Any]:
    """The names conditions and texts can use: slots, and what the thread knows about the customer.

    ``recent`` holds the data of the latest site event of each name (the
    product viewed last, the ad a Messenger referral came from), whichever
    channel it came from, so a text on Messenger can mention what the
    customer looked at on the website.
    """
    values: dict[str, Any] = dict.fromkeys(bot.slots)
    values.update((name, value) for name, value in state.slots.items() if name in values)
    recent: dict[str, Any] = {}
    for site_event in state.site_events:
        recent[site_event["name"]] = site_event["data"]
    values.update(
        language=state.language or bot.default_language,
        channel=channel,
        fallback_streak=state.fallback_streak,
        event=event or {},
        public_url=public_url,
        thread={"turn": state.turn, "channel": state.channel},
        recent=recent,
    )
    return values


def context_functions(state: ThreadState, now: float) -> dict[str, Callable[..., Any]]:
    """Functions over the thread's site events; ``within_hours`` / ``within_days`` look back from now only."""
    events = state.site_events

    def matching(
        name: str, within_hours: float | None, within_days: float | None, filters: dict[str, Any]
    ) -> list[dict[str, Any]]:
        window = within_hours * 3600 if within_hours is not None else None
        if within_days is not None:
            window = min(window, within_days * 86400) if window is not None else within_days * 86400
        return [
            e
            for e in events
            if e["name"] == name
            and (window is None or now - e.get("ts", 0) <= window)
            and all(e["data"].get(k) == v for k, v in filters.items())
        ]

    def count(name: str, within_hours: float | None = None, within_days: float | None = None, **filters: Any) -> int:
        return len(matching(name, within_hours, within_days, filters))

    def last(name: str, **filters: Any) -> dict[str, Any]:
        found = matching(name, None, None, filters)
        return dict(found[-1]["data"]) if found else {}

    def hours_since(name: str, **filters: Any) -> float | None:
        found = matching(name, None, None, filters)
        return (now - found[-1].get("ts", 0)) / 3600 if found else None

    return {
        "count": count,
        "last": last,
        "hours_since": hours_since,
        "len": len,
        "int": int,
        "float": float,
        "str": str,
        "lower": lambda v: str(v).lower(),
        "upper": lambda v: str(v).upper(),
    }
