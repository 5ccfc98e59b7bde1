"""A recording stand-in for the seam's ThreadAccess, for unit tests of a channel's translation.

It keeps an in-memory webhook inbox (de-duplicating by key, as the stores
do), records every turn and what the channel's ``deliver`` returned, and
answers with a scripted bot. End-to-end tests go through the real
``bots.threads`` instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bots.linking.buttons import resolve_continue_buttons
from bots.types import Identity, Inbound, NLUResult, Outbound, StoredEvent, Text, ThreadEvent, TurnOutcome
from connectors.base import Deliver, History, InboxItem, LinkRedeemed


@dataclass
class FakeInbox:
    rows: dict[int, InboxItem] = field(default_factory=dict)
    finished: set[int] = field(default_factory=set)
    marks: dict[tuple[str, str], int] = field(default_factory=dict)

    async def enqueue(self, items: list[InboxItem], *, now: float) -> list[int | None]:
        keys = {item.key for item in self.rows.values()}
        ids: list[int | None] = []
        for item in items:
            if item.key in keys:
                ids.append(None)
                continue
            row_id = len(self.rows) + 1
            self.rows[row_id] = item
            keys.add(item.key)
            ids.append(row_id)
        return ids

    async def pending(self, *, limit: int = 1000) -> list[tuple[int, str, Identity | None]]:
        return [
            (row_id, item.payload, item.person) for row_id, item in self.rows.items() if row_id not in self.finished
        ][:limit]

    async def finish(self, ids: list[int], *, now: float) -> None:
        self.finished.update(ids)

    async def sent(self, key: str, turn: str) -> int:
        return self.marks.get((key, turn), 0)

    async def mark_sent(self, key: str, turn: str, count: int) -> None:
        self.marks[(key, turn)] = max(count, self.marks.get((key, turn), 0))


def echo_bot(inbound: Inbound) -> list[Outbound]:
    """Says what it understood: a message's text, or the event's name."""
    return [Text(f"you said {inbound.text}" if inbound.kind == "message" else f"event {inbound.event}")]


@dataclass
class FakeThreads:
    bot: Callable[[Inbound], list[Outbound]] = echo_bot
    turns: list[Inbound] = field(default_factory=list)
    delivered: list[ThreadEvent] = field(default_factory=list)  # what the channel's deliver returned
    stored: dict[str, list[ThreadEvent]] = field(default_factory=dict)  # thread logs, for history()
    handed_off: set[Identity] = field(default_factory=set)
    links: dict[str, LinkRedeemed] = field(default_factory=dict)  # token -> what redeeming it does
    redeemed: list[tuple[str, Identity, str, bool]] = field(default_factory=list)
    held: dict[Identity, tuple[str, str]] = field(default_factory=dict)
    link_urls: dict[str, str] = field(default_factory=lambda: {"web": "https://shop.example/?tl_link=tl1=web"})
    inboxes: dict[str, FakeInbox] = field(default_factory=dict)

    @staticmethod
    def thread_of(identity: Identity) -> str:
        return f"thread-{identity.user_id}"

    async def turn(self, inbound: Inbound, deliver: Deliver | None = None) -> TurnOutcome:
        self.turns.append(inbound)
        outcome = TurnOutcome(self.thread_of(inbound.identity), self.bot(inbound), channel=inbound.channel)
        if deliver is not None:
            events = await deliver(outcome) or []
            self.delivered += events
            self.stored.setdefault(outcome.thread_id, []).extend(events)
        return outcome

    # ------------------------------------------------------------------ not called by a webhook channel

    async def understand(self, text: str, identity: Identity | None, language_hint: str | None) -> NLUResult:
        raise AssertionError("a webhook channel does not ask what a text means")

    async def open_thread(self, identity: Identity, *, signed_in: Identity | None = None) -> str:
        raise AssertionError("only a chat window opens threads")

    async def join(self, identity: Identity, prior: Identity) -> bool:
        raise AssertionError("only Messenger's checkbox opt-in joins threads")

    # ------------------------------------------------------------------ what the channel calls

    async def find(self, identity: Identity) -> str | None:
        thread_id = self.thread_of(identity)
        return thread_id if thread_id in self.stored else None

    async def is_handed_off(self, identity: Identity) -> bool:
        return identity in self.handed_off

    async def redeem_link(self, token: str, identity: Identity, *, to: str, confirmed: bool) -> LinkRedeemed:
        self.redeemed.append((token, identity, to, confirmed))
        result = self.links.get(token, LinkRedeemed("refused", reason="malformed", detail="not a link token"))
        if result.status == "confirm" and confirmed:
            return LinkRedeemed("linked", thread_id=result.thread_id, merged=True)
        return result

    def hold_link(self, identity: Identity, token: str, to: str) -> None:
        self.held[identity] = (token, to)

    def take_link(self, identity: Identity) -> tuple[str, str] | None:
        return self.held.pop(identity, None)

    async def link_url(self, identity: Identity, to: str) -> str | None:
        return self.link_urls.get(to)

    def link_offered(self, to: str) -> bool:
        return to in self.link_urls

    def resolve_links(self, thread_id: str, messages: list[Outbound], here: str) -> list[Outbound]:
        return resolve_continue_buttons(messages, lambda to: None if to == here else self.link_urls.get(to))

    async def history(
        self, thread_id: str, *, after: int | None = None, limit: int = 200, kinds: tuple[str, ...] = ()
    ) -> History | None:
        if thread_id not in self.stored:
            return None
        log = [StoredEvent(thread_id, seq, event) for seq, event in enumerate(self.stored[thread_id], start=1)]
        if after is None:
            chosen = [e for e in log if not kinds or e.event.kind in kinds][-limit:]
        else:
            chosen = [e for e in log[after:][:limit] if not kinds or e.event.kind in kinds]
        return History(thread_id, len(log), {}, tuple(chosen))

    def inbox(self, channel: str) -> FakeInbox:
        return self.inboxes.setdefault(channel, FakeInbox())
