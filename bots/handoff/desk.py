"""Watches the turns that put a conversation in the hand-off queue: the honest notice, the webhook, left contacts.

The pipeline calls :meth:`HandoffDesk.before_commit` on every turn before it is saved (to add messages and
events to it) and :meth:`HandoffDesk.committed` after (to queue the webhook with the saved sequence number).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bots.flow.state import ThreadState
from bots.flow.turn import Turn
from bots.handoff.hours import BusinessHours
from bots.handoff.notify import Notifier
from bots.handoff.presence import AgentPresence
from bots.store.locked import LockedThread
from bots.types import Identity, Text, ThreadEvent, TurnOutcome

log = logging.getLogger(__name__)

QUEUE_EVENT = "handoff_queue"  # a conversation entered the queue: whether a person was there to answer
CONTACT_EVENT = "handoff_contact"  # the customer left an e-mail address while nobody was there
NOTED_EVENT = "handoff_noted"  # the customer's first message after being told nobody is there: acknowledged once
# A hand-off that is not a request to the team: a person already answered, or another app took the thread
NOT_QUEUED = ("agent_message", "handover")
# Flow text keys (texts/<language>.yml); these English ones speak when a bot has none
TEXTS = {
    "closed": "handoff_closed",
    "no_agent": "handoff_no_agent",
    "contact": "handoff_contact_noted",
    "noted": "handoff_message_noted",
}
FALLBACK = {
    "handoff_closed": "Our team is not in right now. Leave a message or your e-mail address here and we will "
    "get back to you.",
    "handoff_no_agent": "Nobody from our team is free right now. Leave a message or your e-mail address here and "
    "we will get back to you.",
    "handoff_contact_noted": "Thanks! We will write to you at {email}.",
    "handoff_message_noted": "Got it: your message is with our team. Leave your e-mail address too if you would "
    "like the answer by e-mail.",
}
Render = Callable[[str, ThreadState, dict[str, Any]], str | None]  # None: the bot has no text of that key


def entered_queue(event: ThreadEvent) -> bool:
    return event.kind == "handoff" and event.data.get("active") is True and event.data.get("reason") not in NOT_QUEUED


class HandoffDesk:
    def __init__(
        self,
        hours: BusinessHours,
        presence: AgentPresence,
        render: Render,
        notifier: Notifier | None = None,
        public_url: str = "",
    ) -> None:
        self.hours = hours
        self.presence = presence
        self.notifier = notifier
        self._render = render
        self._public_url = public_url

    async def agents_online(self) -> int | None:
        """Agents online, or None when that cannot be known now (the customer is then not told "nobody")."""
        try:
            return await self.presence.online()
        except Exception as exc:  # the live bus is down or not started: a hand-off must still go through
            log.warning("agents' presence unknown (%s); telling the customer only about business hours", exc)
            return None

    def _say(self, turn: Turn, key: str, **values: Any) -> None:
        text = self._render(key, turn.state, values)
        turn.outbound.append(Text(text if text is not None else FALLBACK[key].format(**values)))

    async def before_commit(self, thread: LockedThread, turn: Turn, now: float) -> None:
        if turn.state.handoff and any(entered_queue(e) for e in turn.events):  # and still handed off at the end
            is_open, online = self.hours.is_open(now), await self.agents_online()
            notice = "closed" if not is_open else "no_agent" if online == 0 else None
            turn.events.append(
                ThreadEvent(QUEUE_EVENT, {"open": is_open, "agents_online": online, "notice": notice}, now)
            )
            if notice is not None:
                self._say(turn, TEXTS[notice])
            return
        user = next((e for e in turn.events if e.kind == "user"), None)
        if user is None or not turn.state.handoff:
            return
        # Said only while the customer was told nobody is there and no person has answered or taken the
        # conversation since (an "inbox" event: assigned, transferred): an address
        # left is confirmed; the first message otherwise is acknowledged once (silence after "leave your
        # message here" read as a bot that had stopped listening), and the next ones wait quietly
        last = await thread.tail((QUEUE_EVENT, "agent", "handoff", "inbox", NOTED_EVENT, CONTACT_EVENT), 1)
        told_nobody = bool(last) and last[0].event.kind == QUEUE_EVENT and bool(last[0].event.data.get("notice"))
        if not (told_nobody or (last and last[0].event.kind in (NOTED_EVENT, CONTACT_EVENT))):
            return
        if (email := _email_of(user)) is not None:
            turn.events.append(ThreadEvent(CONTACT_EVENT, {"email": email, "text": user.data.get("text")}, now))
            self._say(turn, TEXTS["contact"], email=email)
        elif told_nobody:
            turn.events.append(ThreadEvent(NOTED_EVENT, {}, now))
            self._say(turn, TEXTS["noted"])

    async def committed(self, outcome: TurnOutcome, person: Identity | None) -> None:
        if self.notifier is None:
            return
        queued = next((e for e in outcome.committed if e.event.kind == QUEUE_EVENT), None)
        if queued is None:
            return
        said = next((e.event.data.get("text") for e in outcome.committed if e.event.kind == "user"), None)
        at = queued.event.timestamp
        body = {
            "event": "handoff.queued",
            "thread_id": outcome.thread_id,
            "queued_at": at,
            "queued_at_iso": datetime.fromtimestamp(at, UTC).isoformat(),
            "channel": outcome.channel,
            "language": outcome.language,
            "last_message": said,
            "open": queued.event.data.get("open"),
            "agents_online": queued.event.data.get("agents_online"),
            "inbox_url": f"{self._public_url}/inbox#thread={outcome.thread_id}",
        }
        try:
            await self.notifier.enqueue(f"{outcome.thread_id}:{queued.seq}", body, person)
        except Exception:  # the turn is saved and answered; a store hiccup here must not fail it
            log.exception("thread %s: the hand-off notification could not be queued", outcome.thread_id)


def _email_of(user: ThreadEvent) -> str | None:
    parse_data = user.data.get("parse_data")
    if not isinstance(parse_data, dict):
        return None
    for entity in parse_data.get("entities") or []:
        if isinstance(entity, dict) and entity.get("entity") == "email" and isinstance(entity.get("value"), str):
            return str(entity["value"])
    return None
