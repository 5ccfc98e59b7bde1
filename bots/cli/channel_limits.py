"""``threadline validate``'s limit warnings: flows that ask for more than a channel shows in one message.

Every channel of the registry states its :class:`~connectors.base.RenderLimits`; at run time a channel splits
or shortens what is over them and drops nothing. This check reads the flows, which a channel never does, so it
lives with the command that runs it. One warning names every channel with the same limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bots.errors import Problem
from bots.flow.model import AskOp, Bot, CarouselOp, MediaOp, SayOp
from bots.located_yaml import Mark
from connectors.base import RenderLimits

# What one flow step asks beyond one limit: (where, flow, the excess with {who} for the channels, the limit).
Excess = tuple[Mark, str, str, int | None]


def check_limits(bot: Bot, channels: dict[str, RenderLimits]) -> list[Problem]:
    """Warnings (MSG-W001) for each excess, naming the channels (``{"Messenger": limits, ...}``) it exceeds."""
    found: dict[tuple[Mark, str, str], list[str]] = {}
    for label, limits in channels.items():
        for mark, flow, message, limit in _excesses(bot, limits):
            found.setdefault((mark, flow, message.replace("{limit}", str(limit))), []).append(label)
    problems = []
    for (mark, flow, message), labels in found.items():
        who = " and ".join(labels)
        verb = "shows" if len(labels) == 1 else "show"
        text = message.replace("{who}", who).replace("{shows}", verb)
        problems.append(Problem(mark, "MSG-W001", f"flow {flow!r}: {text} (on {who} this is adjusted)", "warning"))
    return problems


def _excesses(bot: Bot, limits: RenderLimits) -> Iterator[Excess]:
    def title(ref: Any) -> str:
        if ref.key is not None:
            per_language = bot.responses.get(ref.key, {})
            variants = per_language.get(bot.default_language) or next(iter(per_language.values()), ("",))
            return str(variants[0])
        return str(dict(ref.inline).get(bot.default_language, ""))

    def titles(ref: Any) -> list[str]:
        """The text in every language (titles are short whatever the language)."""
        if ref.key is not None:
            return [v for variants in bot.responses.get(ref.key, {}).values() for v in variants]
        return [text for _lang, text in ref.inline]

    def over(count: int, limit: int | None) -> bool:
        return limit is not None and count > limit

    def own_buttons(op: Any) -> tuple[Any, ...]:
        """The buttons a said response brings (its variant with the most), when the step gives none itself."""
        if isinstance(op, SayOp):
            ref = None if op.buttons else op.text
        elif isinstance(op, AskOp) and not op.choices:
            ref = op.prompt
        else:
            return ()
        if ref is None or ref.key is None:
            return ()
        variants = [v for per in bot.response_variants.get(ref.key, {}).values() for v in per]
        return max((v.buttons for v in variants), key=len, default=())

    for flow in bot.flows.values():
        for op in flow.ops:
            buttons = getattr(op, "buttons", ()) or own_buttons(op)
            replies = getattr(op, "quick_replies", ())
            at, name = op.mark, flow.name
            if isinstance(op, (SayOp, MediaOp, AskOp)) and over(len(buttons), limits.buttons):
                yield at, name, f"{len(buttons)} buttons; {{who}} {{shows}} {{limit}} per message", limits.buttons
            if over(len(replies), limits.quick_replies):
                yield at, name, f"{len(replies)} quick replies; {{who}} {{shows}} {{limit}}", limits.quick_replies
            if isinstance(op, AskOp) and over(len(op.choices), limits.quick_replies):
                yield (
                    at,
                    name,
                    f"{len(op.choices)} choices; {{who}} {{shows}} {{limit}} quick replies",
                    limits.quick_replies,
                )
            for item in [*buttons, *replies, *getattr(op, "choices", ())]:
                for text in titles(item.title):
                    if over(len(text), limits.button_title_chars):
                        yield at, name, f"title {text!r} is longer than {{limit}} characters", limits.button_title_chars
                payload = getattr(item, "payload", None) or (
                    item.value if getattr(item, "kind", "") == "postback" else None
                )
                if payload is not None and over(len(getattr(payload, "source", str(payload))), limits.payload_chars):
                    yield at, name, "a payload longer than {limit} characters is cut", limits.payload_chars
            if isinstance(op, CarouselOp):
                if over(len(op.cards), limits.cards):
                    yield at, name, f"{len(op.cards)} cards; {{who}} {{shows}} {{limit}} per carousel", limits.cards
                for card in op.cards:
                    if over(len(card.buttons), limits.buttons):
                        yield (
                            at,
                            name,
                            f"a card with {len(card.buttons)} buttons; {{who}} {{shows}} {{limit}}",
                            limits.buttons,
                        )
                    for text in (title(card.title), title(card.subtitle) if card.subtitle else ""):
                        if over(len(text), limits.card_title_chars):
                            yield (
                                at,
                                name,
                                f"card text {text[:30]!r}… is longer than {{limit}}",
                                limits.card_title_chars,
                            )
