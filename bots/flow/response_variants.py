"""Responses with more than words (Rasa's response shape): buttons, an image, a custom payload, a variant for one
channel or under a condition. Compiled when the bot loads, chosen per turn as Rasa chooses, shown as messages.

Words stay in ``Bot.responses`` (every check of texts reads them there); what a variant adds is kept beside
them, index for index, so choosing a variant picks its words and its extras together.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bots.flow import schema as s
from bots.flow.expressions import Expression, ExpressionError, Template
from bots.flow.model import ButtonDef, ResponseVariant, TextRef
from bots.types import Button, Custom, Media, Outbound, QuickReply, Text


def compile_variant(spec: s.ResponseVariantSpec, language: str) -> ResponseVariant:
    """A variant as the engine keeps it; raises ExpressionError for a condition that does not parse."""
    buttons = tuple(
        ButtonDef(
            TextRef(inline=((language, button.title),)),
            "postback" if button.payload is not None else "url",
            Template(button.payload if button.payload is not None else str(button.url)),
        )
        for button in spec.buttons
    )
    condition = Expression.parse(spec.condition) if spec.condition is not None else None
    image = Template(spec.image) if spec.image else None
    return ResponseVariant(buttons, image, spec.custom, spec.channel, condition)


def condition_problem(condition: Expression) -> str | None:
    """A response's condition reads names only: functions need a moment and events, which an ``if:`` step has."""
    if condition.functions():
        return (
            f"condition {condition.source!r} calls {', '.join(sorted(condition.functions()))}: a response's "
            "condition reads slots and names only; put the test in an 'if:' step instead"
        )
    return None


def eligible(variants: Sequence[ResponseVariant], values: dict[str, Any]) -> list[int]:
    """The variants that may be said, by Rasa 3.x's precedence: this channel's whose condition holds, this
    channel's without a condition, any channel's whose condition holds, any channel's without a condition.
    A condition that cannot be evaluated is false.
    """
    channel = values.get("channel")
    holds = [i for i, v in enumerate(variants) if v.condition is not None and _holds(v.condition, values)]
    plain = [i for i, v in enumerate(variants) if v.condition is None]
    for wanted, group in ((channel, holds), (channel, plain), (None, holds), (None, plain)):
        chosen = [i for i in group if variants[i].channel == wanted and (wanted is None or wanted)]
        if chosen:
            return chosen
    return []


def _holds(condition: Expression, values: dict[str, Any]) -> bool:
    try:
        return bool(condition.evaluate(values, {}))
    except ExpressionError:
        return False


def response_messages(
    text: str,
    extras: ResponseVariant | None,
    buttons: tuple[Button, ...],
    quick_replies: tuple[QuickReply, ...],
    image: str = "",
    custom: Any = None,
) -> list[Outbound]:
    """A said response as messages, in the order Rasa's channels send them: the words with their buttons, the
    custom payload, the image (which carries the words as its caption when there is no custom payload).

    ``buttons`` are the response's own (already rendered) unless the step gave its own; ``image`` and
    ``custom`` are the chosen variant's, filled in.
    """
    if extras is None:
        return [Text(text, buttons, quick_replies)]
    out: list[Outbound] = []
    if (text or buttons) and (custom is not None or not image):
        out.append(Text(text, buttons))
        text, buttons = "", ()
    if custom is not None:
        out.append(Custom(custom))
    if image:
        out.append(Media("image", image, text, buttons))
    if quick_replies:
        last = out[-1] if out else None
        if isinstance(last, Text):
            out[-1] = Text(last.text, last.buttons, quick_replies)
        elif isinstance(last, Media):
            out[-1] = Media(last.media, last.url, last.caption, last.buttons, quick_replies)
        else:
            out.append(Text("", (), quick_replies))
    return out


def fill_custom(custom: Any, fill: Any) -> Any:
    """A custom payload with ``{names}`` in its strings filled in, as Rasa fills a response's custom payload."""
    if isinstance(custom, str):
        return fill(custom)
    if isinstance(custom, dict):
        return {key: fill_custom(value, fill) for key, value in custom.items()}
    if isinstance(custom, list):
        return [fill_custom(value, fill) for value in custom]
    return custom
