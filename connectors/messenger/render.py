"""Channel-neutral messages -> Send API message bodies, within Messenger's limits.

Messenger limits: text 2000 characters; button template text 640 and 1-3
buttons; button and quick-reply titles 20 characters; 13 quick replies; a
generic template (carousel) 10 elements of 80-character title and subtitle
with 3 buttons each. A flow may ask for more; nothing is ever dropped (see
connectors/meta/render.py, shared with Instagram). Each change is reported in
``Rendered.adjustments``, and the same checks run at ``threadline validate``
time (:func:`check_limits`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bots.types import Outbound
from connectors.meta.render import Rendered, SendLimits, SendRenderer, shorten, split_text

if TYPE_CHECKING:
    from bots.errors import Problem
    from bots.flow.model import Bot

__all__ = ["LIMITS", "Rendered", "check_limits", "render", "render_all", "shorten", "split_text"]

TEXT_LIMIT = 2000
BUTTON_TEXT_LIMIT = 640
TITLE_LIMIT = 20
CARD_TEXT_LIMIT = 80
MAX_BUTTONS = 3
MAX_QUICK_REPLIES = 13
MAX_CARDS = 10
PAYLOAD_LIMIT = 1000
LIMITS = SendLimits("Messenger", TEXT_LIMIT, button_text=BUTTON_TEXT_LIMIT, title=TITLE_LIMIT,
                    card_text=CARD_TEXT_LIMIT, buttons=MAX_BUTTONS, quick_replies=MAX_QUICK_REPLIES, cards=MAX_CARDS,
                    payload=PAYLOAD_LIMIT)
_RENDERER = SendRenderer(LIMITS)


def render(message: Outbound) -> Rendered:
    return _RENDERER.render_all([message])


def render_all(messages: list[Outbound]) -> Rendered:
    return _RENDERER.render_all(messages)


def check_limits(bot: "Bot") -> list["Problem"]:
    """Warnings for flows that ask for more than Messenger shows; at run time they degrade as described above."""
    from bots.errors import Problem
    from bots.flow.model import AskOp, CarouselOp, MediaOp, SayOp

    def title(ref: Any) -> str:
        if ref.key is not None:
            per_language = bot.responses.get(ref.key, {})
            variants = per_language.get(bot.default_language) or next(iter(per_language.values()), ("",))
            return variants[0]
        return dict(ref.inline).get(bot.default_language, "")

    def titles(ref: Any) -> list[str]:
        """The text in every language (titles are short on Messenger whatever the language)."""
        if ref.key is not None:
            return [v for variants in bot.responses.get(ref.key, {}).values() for v in variants]
        return [text for _lang, text in ref.inline]

    problems: list[Problem] = []

    def warn(mark: Any, flow: str, message: str) -> None:
        problems.append(Problem(mark, "MSG-W001", f"flow {flow!r}: {message} (on Messenger this is adjusted)",
                                "warning"))

    for flow in bot.flows.values():
        for op in flow.ops:
            buttons = getattr(op, "buttons", ())
            replies = getattr(op, "quick_replies", ())
            if isinstance(op, (SayOp, MediaOp)) and len(buttons) > MAX_BUTTONS:
                warn(op.mark, flow.name, f"{len(buttons)} buttons; Messenger shows {MAX_BUTTONS} per message")
            if len(replies) > MAX_QUICK_REPLIES:
                warn(op.mark, flow.name, f"{len(replies)} quick replies; Messenger shows {MAX_QUICK_REPLIES}")
            if isinstance(op, AskOp) and len(op.choices) > MAX_QUICK_REPLIES:
                warn(op.mark, flow.name, f"{len(op.choices)} choices; Messenger shows {MAX_QUICK_REPLIES} quick replies")
            for item in list(buttons) + list(replies) + list(getattr(op, "choices", ())):
                for text in titles(item.title):
                    if len(text) > TITLE_LIMIT:
                        warn(op.mark, flow.name, f"title {text!r} is longer than {TITLE_LIMIT} characters")
                payload = getattr(item, "payload", None) or (item.value if getattr(item, "kind", "") == "postback"
                                                             else None)
                if payload is not None and len(getattr(payload, "source", str(payload))) > PAYLOAD_LIMIT:
                    warn(op.mark, flow.name, f"a payload longer than {PAYLOAD_LIMIT} characters is cut")
            if isinstance(op, CarouselOp):
                if len(op.cards) > MAX_CARDS:
                    warn(op.mark, flow.name, f"{len(op.cards)} cards; Messenger shows {MAX_CARDS} per carousel")
                for card in op.cards:
                    if len(card.buttons) > MAX_BUTTONS:
                        warn(op.mark, flow.name, f"a card with {len(card.buttons)} buttons; Messenger shows "
                                                 f"{MAX_BUTTONS}")
                    for text in (title(card.title), title(card.subtitle) if card.subtitle else ""):
                        if len(text) > CARD_TEXT_LIMIT:
                            warn(op.mark, flow.name, f"card text {text[:30]!r}… is longer than {CARD_TEXT_LIMIT}")
    return problems
