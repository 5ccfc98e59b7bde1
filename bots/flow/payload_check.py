"""``threadline validate``: a button or quick reply whose payload nothing answers.

A pressed payload starts the flow that lists it (``trigger.payloads``) or whose intent it names
(``/intent``); otherwise it lands in the fallback, which is nearly always a typo in the flow. Buttons under a
question are answers to it, so only buttons of ``say``, media and carousels are checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bots.errors import Problem, did_you_mean
from bots.flow.model import ButtonDef, CarouselOp, Flow, MediaOp, Op, QuickReplyDef, SayOp

_NAME = re.compile(r"^(/[^{\s]+)")
# Payloads a channel answers itself (Messenger's "join the chat from the website?" quick replies).
CHANNEL_PAYLOADS = frozenset({"/link_accept", "/link_decline"})


def _payloads(flow: Flow) -> Iterable[tuple[Op, str]]:
    for op in flow.ops:
        buttons: list[ButtonDef] = []
        replies: tuple[QuickReplyDef, ...] = ()
        if isinstance(op, (SayOp, MediaOp)):
            buttons, replies = list(op.buttons), op.quick_replies
        elif isinstance(op, CarouselOp):
            buttons, replies = [b for card in op.cards for b in card.buttons], op.quick_replies
        for button in buttons:
            if button.kind == "postback":
                yield op, button.value.source
        for reply in replies:
            yield op, reply.payload.source


def unanswered_payloads(flows: dict[str, Flow], intents: Iterable[str]) -> list[Problem]:
    """Warnings (BOT-W005) for payloads that start no flow and name no intent a flow starts on."""
    payloads = {p for flow in flows.values() for p in flow.trigger.payloads}
    flow_intents = {i for flow in flows.values() for i in flow.trigger.intents}
    known_intents = set(intents)
    problems = []
    for flow in flows.values():
        for op, source in _payloads(flow):
            found = _NAME.match(source.strip())
            if found is None or "$" in found.group(1):
                continue  # not a payload (plain text a flow reads), or built when sent
            name = found.group(1)
            if name in payloads or source in payloads or name in CHANNEL_PAYLOADS or name[1:] in flow_intents:
                continue
            why = "an intent no flow starts on" if name[1:] in known_intents else "no intent"
            answered = [*payloads, *CHANNEL_PAYLOADS, *(f"/{intent}" for intent in flow_intents)]
            problems.append(
                Problem(
                    op.mark,
                    "BOT-W005",
                    f"flow {flow.name!r}: payload {name!r} starts no flow "
                    f"and names {why}: pressing it reaches the fallback{did_you_mean(name, answered)}",
                    "warning",
                )
            )
    return problems
