"""``threadline validate``'s Messenger warnings: flows that ask for more than Messenger shows.

At run time such messages degrade as :mod:`connectors.messenger.render` describes; this check reads the flows,
which a channel never does, so it lives with the command that runs it.
"""

from __future__ import annotations

from typing import Any

from bots.errors import Problem
from bots.flow.model import AskOp, Bot, CarouselOp, MediaOp, SayOp
from connectors.messenger.render import (
    CARD_TEXT_LIMIT,
    MAX_BUTTONS,
    MAX_CARDS,
    MAX_QUICK_REPLIES,
    PAYLOAD_LIMIT,
    TITLE_LIMIT,
)


def check_limits(bot: Bot) -> list[Problem]:
    """Warnings for flows that ask for more than Messenger shows; at run time they degrade as described above."""

    def title(ref: Any) -> str:
        if ref.key is not None:
            per_language = bot.responses.get(ref.key, {})
            variants = per_language.get(bot.default_language) or next(iter(per_language.values()), ("",))
            return str(variants[0])
        return str(dict(ref.inline).get(bot.default_language, ""))

    def titles(ref: Any) -> list[str]:
        """The text in every language (titles are short on Messenger whatever the language)."""
        if ref.key is not None:
            return [v for variants in bot.responses.get(ref.key, {}).values() for v in variants]
        return [text for _lang, text in ref.inline]

    problems: list[Problem] = []

    def warn(mark: Any, flow: str, message: str) -> None:
        problems.append(
            Problem(mark, "MSG-W001", f"flow {flow!r}: {message} (on Messenger this is adjusted)", "warning")
        )

    for flow in bot.flows.values():
        for op in flow.ops:
            buttons = getattr(op, "buttons", ())
            replies = getattr(op, "quick_replies", ())
            if isinstance(op, (SayOp, MediaOp)) and len(buttons) > MAX_BUTTONS:
                warn(op.mark, flow.name, f"{len(buttons)} buttons; Messenger shows {MAX_BUTTONS} per message")
            if len(replies) > MAX_QUICK_REPLIES:
                warn(op.mark, flow.name, f"{len(replies)} quick replies; Messenger shows {MAX_QUICK_REPLIES}")
            if isinstance(op, AskOp) and len(op.choices) > MAX_QUICK_REPLIES:
                warn(
                    op.mark, flow.name, f"{len(op.choices)} choices; Messenger shows {MAX_QUICK_REPLIES} quick replies"
                )
            for item in list(buttons) + list(replies) + list(getattr(op, "choices", ())):
                for text in titles(item.title):
                    if len(text) > TITLE_LIMIT:
                        warn(op.mark, flow.name, f"title {text!r} is longer than {TITLE_LIMIT} characters")
                payload = getattr(item, "payload", None) or (
                    item.value if getattr(item, "kind", "") == "postback" else None
                )
                if payload is not None and len(getattr(payload, "source", str(payload))) > PAYLOAD_LIMIT:
                    warn(op.mark, flow.name, f"a payload longer than {PAYLOAD_LIMIT} characters is cut")
            if isinstance(op, CarouselOp):
                if len(op.cards) > MAX_CARDS:
                    warn(op.mark, flow.name, f"{len(op.cards)} cards; Messenger shows {MAX_CARDS} per carousel")
                for card in op.cards:
                    if len(card.buttons) > MAX_BUTTONS:
                        warn(
                            op.mark,
                            flow.name,
                            f"a card with {len(card.buttons)} buttons; Messenger shows {MAX_BUTTONS}",
                        )
                    for text in (title(card.title), title(card.subtitle) if card.subtitle else ""):
                        if len(text) > CARD_TEXT_LIMIT:
                            warn(op.mark, flow.name, f"card text {text[:30]!r}… is longer than {CARD_TEXT_LIMIT}")
    return problems
