"""The same request again for another value: "and the marathon?" right after the price of the City Glide.

A customer who has just had an answer asks for the next one in as few words as people do in chat: a word for
"and" (or "what about") and the value. Nothing else in the message says what it wants, so the NLU guesses (the
fallback, or the bestsellers for "und der marathon?"); a careful agent answers the question it was just asked,
for the new value.
"""

from __future__ import annotations

import re
from typing import Any

from bots.flow.answers import fold
from bots.flow.model import AskOp, BranchOp, Flow
from bots.flow.run import Run

# "and" and "what about" in our languages, then articles; folded (no accents, lower case)
_OPENERS = (
    r"and|and what about|what about|how about|and for|"
    r"und|und was ist mit|was ist mit|und fur|"
    r"et|et pour|et pour les?|et la|et le|et les|"
    r"e|e per|e invece|e quanto a|"
    r"y|y para|y que tal|que tal|"
    r"e o|e a|e para|e os|e as|"
    r"en|en voor|en wat dacht je van|"
    r"a|i|a co z|a co ze|"
    r"si|dar|si pentru|"
    r"con|the con|"
    r"那|那么|还有|那个"
)
_ARTICLES = r"the|der|die|den|das|dem|des|le|la|les|l|il|lo|gli|el|los|las|o|os|as|de|het|un|une|uno|una|ein|eine|einen"
_ONLY_OPENER = re.compile(rf"^(?:{_OPENERS})(?:\s+(?:{_ARTICLES}))*$")


def same_request_again(run: Run, ended: dict[str, Any] | None, text: str) -> str | None:
    """The flow that ended in the turn before, when this message is only a word for "and" and values for the
    slots that flow reads (set from the message's entities already); None otherwise. Only a flow a customer asks
    for in words (one with intents): "and the marathon?" after a purchase is not a second purchase."""
    if ended is None or ended.get("turn") != run.state.turn - 1 or ended.get("flow") not in run.bot.flows:
        return None
    flow = run.bot.flows[ended["flow"]]
    if not flow.trigger.intents or not run.turn.filled or not set(run.turn.filled) <= reads(flow):
        return None  # "and ST-123456?" after a shoe's price asks about an order, not the price
    spans = sorted(span for _, span in run.turn.filled.values() if span is not None)
    if not spans:
        return None
    rest, last = [], 0
    for start, end in spans:
        rest.append(text[last:start])
        last = max(last, end)
    rest.append(text[last:])
    words = " ".join(re.sub(r"[^\w\s]", " ", fold(" ".join(rest))).split())
    return str(ended["flow"]) if _ONLY_OPENER.match(words) else None


def reads(flow: Flow) -> set[str]:
    """The slots ``flow`` asks for or decides on."""
    asked = {op.slot for op in flow.ops if isinstance(op, AskOp)}
    return asked | {name for op in flow.ops if isinstance(op, BranchOp) for name in op.condition.names()}
