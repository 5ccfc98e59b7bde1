"""Play a test's steps on a running bot and note what each turn did, as a channel would see it.

Each step goes through ``Threads.turn``, the entry every channel uses (locks, NLU, engine, actions, commit);
a channel switch follows a real link (``ThreadLinker``) and sends the ``thread_linked`` event the channels
send, so the same thread carries on as it does for a customer.
"""

from __future__ import annotations

import dataclasses
import re
import time
from dataclasses import dataclass, field
from typing import Any

from bots.convtest.spec import ConversationTest, Step
from bots.flow.model import Bot
from bots.runtime import Runtime
from bots.types import Button, Carousel, Identity, Inbound, Media, Outbound, QuickReply, Text, TurnOutcome


@dataclass
class Observed:
    """What one turn did: what the customer saw and what the thread holds afterwards."""

    replies: list[Outbound] = field(default_factory=list)
    channel: str = ""  # where the customer was: the replies are as shown there
    recipient: str = ""  # the customer's id on that channel
    language: str | None = None
    intent: str | None = None
    entities: list[tuple[str, Any, str]] = field(default_factory=list)  # the NLU's: name, value, text it is in
    flows: list[str] = field(default_factory=list)  # started or resumed in this turn
    actions: list[str] = field(default_factory=list)
    slots: dict[str, Any] = field(default_factory=dict)
    handoff: bool = False
    error: str | None = None  # the step could not be played (a button that was not offered)


class StepError(Exception):
    """The step cannot be played as written, e.g. it presses a button the bot did not offer."""


def offered(replies: list[Outbound]) -> list[Button | QuickReply]:
    """Every button and quick reply of a turn, card buttons included, in the order shown."""
    found: list[Button | QuickReply] = []
    for message in replies:
        if isinstance(message, Text | Media):
            found += [*message.buttons, *message.quick_replies]
        elif isinstance(message, Carousel):
            for card in message.cards:
                found += card.buttons
            found += message.quick_replies
    return found


def titled(title: str, wanted: str, bot: Bot, language: str | None) -> bool:
    """``wanted`` is the title as shown (any case), or the response key the title is made from."""
    if title.strip().casefold() == wanted.strip().casefold():
        return True
    per_language = bot.responses.get(wanted, {})
    return title in per_language.get(language or bot.default_language, per_language.get(bot.default_language, ()))


class Conversation:
    """One test's customer: an identity per channel, all on one thread."""

    def __init__(self, runtime: Runtime, test: ConversationTest, number: int) -> None:
        self.runtime = runtime
        self.test = test
        who = test.customer or re.sub(r"[^a-z0-9]+", "-", test.name.lower()).strip("-") or "customer"
        self.customer = f"t{number}-{who}"  # tests never share a thread, even with the same customer
        self.identity = Identity(test.channel, self.customer)
        self.last: list[Outbound] = []
        self.language: str | None = None

    async def play(self, step: Step) -> Observed:
        spec = step.spec
        try:
            if spec.switch is not None:
                outcome = await self._switch(spec.switch)
            elif spec.event is not None:
                outcome = await self._send(Inbound(self.identity, "event", event=spec.event, data=spec.data or {}))
            else:
                outcome = await self._send(Inbound(self.identity, "message", text=self._text(step)))
        except StepError as exc:
            return Observed(error=str(exc))
        seen = await self._observe(outcome)
        self.last = seen.replies
        self.language = seen.language
        return seen

    def _text(self, step: Step) -> str:
        spec = step.spec
        if spec.button is None:
            return spec.user if spec.user is not None else str(spec.payload)
        choices = offered(self.last)
        for choice in choices:
            if titled(choice.title, spec.button, self.runtime.bot, self.language):
                if isinstance(choice, QuickReply):
                    return choice.payload
                if choice.kind != "postback":
                    raise StepError(
                        f"button {choice.title!r} opens {choice.value}; only payload buttons can be pressed"
                    )
                return choice.value
        titles = ", ".join(repr(c.title) for c in choices) or "none"
        raise StepError(f"no button {spec.button!r} in the last replies (offered: {titles})")

    async def _send(self, inbound: Inbound) -> TurnOutcome:
        """One turn, with the customer's locale as their channel would report it."""
        hinted = dataclasses.replace(inbound, language_hint=self.test.language, timestamp=time.time())
        return await self.runtime.threads.turn(hinted)

    async def _switch(self, channel: str) -> TurnOutcome:
        threads = self.runtime.threads
        thread_id = await threads.find(self.identity)
        if thread_id is None:
            raise StepError("switch: there is no conversation to continue yet; send a message first")
        token = self.runtime.linker.issue(thread_id, f"to_{channel}")
        before = self.identity.channel
        self.identity = Identity(channel, f"{self.customer}-{channel}")
        linked = await threads.redeem_link(token, self.identity, to=channel, confirmed=False)
        if linked.status != "linked":
            raise StepError(f"switch to {channel}: the link was not followed ({linked.status}: {linked.detail})")
        return await self._send(Inbound(self.identity, "event", event="thread_linked", data={"from": before}))

    async def _observe(self, outcome: TurnOutcome) -> Observed:
        # as every channel does before sending: "continue in" buttons become links, the one to here is left out
        replies = self.runtime.threads.resolve_links(outcome.thread_id, outcome.outbound, here=self.identity.channel)
        seen = Observed(replies=replies, language=outcome.language, channel=self.identity.channel)
        seen.recipient = self.identity.user_id
        for stored in outcome.committed:
            event = stored.event
            if event.kind == "user":
                parse = event.data.get("parse_data")
                intent = parse.get("intent") if isinstance(parse, dict) else None
                seen.intent = str(intent.get("name")) if isinstance(intent, dict) and intent.get("name") else None
                seen.entities = _entities(parse) if isinstance(parse, dict) else []
            elif event.kind == "flow" and event.data.get("status") in ("started", "resumed"):
                seen.flows.append(str(event.data.get("flow")))
            elif event.kind == "action":
                seen.actions.append(str(event.data.get("name")))
        state = await self.runtime.threads.state(outcome.thread_id)
        if state is not None:
            seen.slots = dict(state.slots)
            seen.handoff = state.handoff
            seen.language = seen.language or state.language
        return seen


def _entities(parse: dict[str, Any]) -> list[tuple[str, Any, str]]:
    """The entities of a message's ``parse_data``, each with the text it was read from (when given)."""
    text = str(parse.get("text") or "")
    found = []
    for entity in parse.get("entities") or []:
        if isinstance(entity, dict) and "entity" in entity:
            start, end = entity.get("start"), entity.get("end")
            span = text[start:end] if isinstance(start, int) and isinstance(end, int) else ""
            found.append((str(entity["entity"]), entity.get("value"), span))
    return found
