"""Proactive follow-ups: who a campaign may reach, decided from a thread's state alone (no I/O).

A business sends a flow or a message to the threads a condition selects
("viewed the Trail Runner 2 in the last 2 days and did not buy"), but only
to people who talked to it first, never to anyone who opted out or is with
a person, and once per campaign. Which channel may carry it right now is
the server's part (bots.server.followups): it depends on live connections
and on Messenger's policy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bots.flow.engine import Engine
from bots.flow.expressions import Expression, ExpressionError
from bots.flow.loader import BUILTIN_FUNCTIONS, BUILTIN_NAMES
from bots.flow.model import Bot
from bots.flow.state import ThreadState

_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
MESSENGER_CHANNELS = ("messenger", "messenger_ref")


class CampaignError(ValueError):
    """A campaign that cannot run as given (the message says what to change)."""


@dataclass(frozen=True)
class Campaign:
    name: str
    condition: Expression
    flow: str | None = None
    texts: dict[str, str] = field(default_factory=dict)  # language -> text, when no flow is given
    tag: str | None = None  # Messenger message tag for a text sent after the 24-hour window
    rate_per_minute: float = 60.0
    limit: int | None = None  # at most this many sends

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "when": self.condition.source,
            "flow": self.flow,
            "text": self.texts or None,
            "tag": self.tag,
            "rate_per_minute": self.rate_per_minute,
            "limit": self.limit,
        }


def parse_campaign(body: Any, bot: Bot) -> Campaign:
    """A campaign from an API body or the CLI, checked against the bot before anything is sent."""
    if not isinstance(body, dict):
        raise CampaignError("the campaign must be a JSON object")
    name = body.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise CampaignError("'name' must be 1 to 64 letters, digits or -_. (a thread gets each campaign once)")
    when = body.get("when")
    if not isinstance(when, str) or not when.strip():
        raise CampaignError(
            "'when' must be a condition, e.g. \"count('product_viewed', sku='TR2', within_days=2) "
            "> 0 and count('purchase') == 0\""
        )
    try:
        condition = Expression.parse(when)
    except ExpressionError as exc:
        raise CampaignError(str(exc)) from None
    unknown = sorted(n for n in condition.names() if n not in bot.slots and n not in BUILTIN_NAMES)
    if unknown:
        raise CampaignError(
            f"unknown name {unknown[0]!r} in 'when' (not a slot nor one of {', '.join(sorted(BUILTIN_NAMES))})"
        )
    functions = sorted(f for f in condition.functions() if f not in BUILTIN_FUNCTIONS)
    if functions:
        raise CampaignError(
            f"unknown function {functions[0]!r} in 'when' (available: {', '.join(sorted(BUILTIN_FUNCTIONS))})"
        )
    flow, text = body.get("flow"), body.get("text")
    if (flow is None) == (text is None):
        raise CampaignError("give either 'flow' (a flow of the bot) or 'text' (a string, or {language: text})")
    if flow is not None and (not isinstance(flow, str) or flow not in bot.flows):
        raise CampaignError(f"the bot has no flow {flow!r}")
    texts: dict[str, str] = {}
    if isinstance(text, str) and text.strip():
        texts = {bot.default_language: text}
    elif isinstance(text, dict) and text and all(isinstance(v, str) and v.strip() for v in text.values()):
        texts = {str(k): v for k, v in text.items()}
        if bot.default_language not in texts:
            raise CampaignError(f"'text' needs the default language {bot.default_language!r} for everyone else")
    elif text is not None:
        raise CampaignError("'text' must be a non-empty string or an object of language: text")
    tag = body.get("tag")
    if tag is not None and not isinstance(tag, str):
        raise CampaignError("'tag' must be a Messenger message tag such as POST_PURCHASE_UPDATE")
    rate = body.get("rate_per_minute", 60)
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate <= 6000:
        raise CampaignError("'rate_per_minute' must be a number above 0 and at most 6000")
    limit = body.get("limit")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise CampaignError("'limit' must be a positive whole number")
    return Campaign(name, condition, flow, texts, tag, float(rate), limit)


def talked(state: ThreadState) -> bool:
    """The customer wrote (or pressed a button) on any channel, or started a Messenger conversation.

    Page views and widget opens alone do not count: a follow-up must answer
    a conversation the customer began.
    """
    return state.turn > 0 or any(c in state.last_inbound_by_channel for c in MESSENGER_CHANNELS)


def eligible(engine: Engine, state: ThreadState, campaign: Campaign, now: float) -> str | None:
    """None when the campaign may reach this thread; otherwise why not (for the dry run's list)."""
    if not talked(state):
        return "never_talked: the customer never wrote to the business"
    if state.opted_out:
        return "opted_out: the customer asked for no messages they did not request"
    if state.handoff:
        return "with_a_person: a person has this conversation"
    if campaign.name in state.followups:
        return "already_sent: this thread got this campaign before"
    try:
        selected = engine.matches(state, campaign.condition, now)
    except ExpressionError as exc:
        return f"condition_failed: {exc}"
    return None if selected else "not_selected: the condition is false for this thread"
