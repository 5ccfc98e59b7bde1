"""THE rule for reaching a customer outside a turn (an agent's reply, an admin message, a reminder, a campaign).

Every channel the thread has an identity on is asked whether it can reach the
customer now (:meth:`connectors.base.Channel.reach`). The customer's current
channel (where they last did something) is asked first. The first channel that
delivers at once wins; failing that, the first that keeps the message for the
customer's return (the website's next visit, the REST channel's next request);
failing that, nobody is reached and every channel's reason is reported.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from connectors.base import Channel, Reach, ThreadView


@dataclass(frozen=True)
class Route:
    chosen: Reach | None
    considered: tuple[Reach, ...]

    @property
    def refusal(self) -> str:
        """Why no channel could take the message, one reason per channel asked."""
        if not self.considered:
            return "no_channel: the thread has no identity on a channel that can reach it"
        if len(self.considered) == 1:
            return self.considered[0].reason
        return "; ".join(f"{r.channel}: {r.reason}" for r in self.considered)


def channels_of(view: ThreadView, channels: Iterable[Channel]) -> list[Channel]:
    """The channels the customer can be reached on, their current one first."""
    own = [c for c in channels if any(i.channel in c.identity_channels for i in view.identities)]
    current = str(view.state.get("channel") or "")
    return sorted(
        own,
        key=lambda c: (current in c.identity_channels, view.last_inbound_on(c.identity_channels) or 0.0),
        reverse=True,
    )


def choose(
    view: ThreadView,
    channels: Iterable[Channel],
    *,
    now: float,
    tag: str | None = None,
    by_person: bool = False,
    live: dict[str, int] | None = None,
) -> Route:
    reaches = tuple(
        c.reach(view, now=now, tag=tag, by_person=by_person, live=bool((live or {}).get(c.name)))
        for c in channels_of(view, channels)
    )
    for status in ("now", "queued"):
        for reach in reaches:
            if reach.status == status:
                return Route(reach, reaches)
    return Route(None, reaches)
