"""Channel-neutral messages -> Send API message bodies, within Messenger's limits.

Messenger limits: text 2000 characters; button template text 640 and 1-3
buttons; button and quick-reply titles 20 characters; 13 quick replies; a
generic template (carousel) 10 elements of 80-character title and subtitle
with 3 buttons each. A flow may ask for more; nothing is ever dropped:
long text is split at sentence boundaries, extra buttons go into further
button messages, extra cards into further carousels, extra quick replies
become buttons, and over-long titles are shortened with an ellipsis. Each
such change is reported in ``Rendered.adjustments``, and the same checks run
at ``threadline validate`` time (:func:`check_limits`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bots.types import Button, Card, Carousel, Custom, Media, Outbound, QuickReply, Text, Typing

if TYPE_CHECKING:
    from bots.errors import Problem
    from bots.flow.model import Bot

TEXT_LIMIT = 2000
BUTTON_TEXT_LIMIT = 640
TITLE_LIMIT = 20
CARD_TEXT_LIMIT = 80
MAX_BUTTONS = 3
MAX_QUICK_REPLIES = 13
MAX_CARDS = 10
PAYLOAD_LIMIT = 1000
MORE_TEXT = "…"
_SENTENCE_END = re.compile(r"[.!?…](?:\s+|$)|[。！？](?:\s*)|\n+")


@dataclass
class Rendered:
    """The Send API bodies for one neutral message: each is {"message": ...} or {"sender_action": ...}."""

    bodies: list[dict[str, Any]] = field(default_factory=list)
    adjustments: list[str] = field(default_factory=list)


def shorten(text: str, limit: int, what: str, adjustments: list[str]) -> str:
    if len(text) <= limit:
        return text
    adjustments.append(f"{what} {text!r} is longer than {limit} characters; shortened")
    return text[: limit - 1].rstrip() + "…"


def split_text(text: str, limit: int) -> list[str]:
    """Chunks of at most ``limit`` characters, cut after sentences where possible, else at spaces.

    The chunks are slices of the original, so line breaks survive and no spaces are added (Chinese and
    Japanese sentences have none between them).
    """
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    cuts = [match.end() for match in _SENTENCE_END.finditer(text)]  # positions after a sentence and its spaces
    chunks: list[str] = []
    start = 0
    while len(text) - start > limit:
        window_end = start + limit
        fitting = [cut for cut in cuts if start < cut <= window_end]
        if fitting:
            end = fitting[-1]
        else:  # no sentence ends in reach: the last space, else a hard cut
            space = text.rfind(" ", start, window_end)
            end = space + 1 if space > start + limit // 2 else window_end
        chunk = text[start:end].strip()
        if chunk:
            chunks.append(chunk)
        start = end
    rest = text[start:].strip()
    if rest:
        chunks.append(rest)
    return chunks


def button(item: Button, adjustments: list[str]) -> dict[str, Any]:
    title = shorten(item.title, TITLE_LIMIT, "button title", adjustments)
    if item.kind == "url":
        return {"type": "web_url", "url": item.value, "title": title}
    if item.kind == "phone":
        number = re.sub(r"[^\d+]", "", item.value)
        return {"type": "phone_number", "title": title, "payload": number}
    return {"type": "postback", "title": title, "payload": shorten(item.value, PAYLOAD_LIMIT, "payload", adjustments)}


def quick_replies(items: tuple[QuickReply, ...], adjustments: list[str]) -> tuple[list[dict[str, Any]], list[Button]]:
    """Quick replies Messenger takes, and the ones beyond 13 as postback buttons."""
    kept = [{"content_type": "text", "title": shorten(q.title, TITLE_LIMIT, "quick reply title", adjustments),
             "payload": shorten(q.payload, PAYLOAD_LIMIT, "payload", adjustments)} for q in items[:MAX_QUICK_REPLIES]]
    overflow = [Button(q.title, "postback", q.payload) for q in items[MAX_QUICK_REPLIES:]]
    if overflow:
        adjustments.append(f"{len(items)} quick replies: Messenger shows {MAX_QUICK_REPLIES}; "
                           f"the other {len(overflow)} are sent as buttons")
    return kept, overflow


def _button_messages(text: str, buttons: list[Button], adjustments: list[str]) -> list[dict[str, Any]]:
    """Button templates for ``buttons`` (3 per message); the text goes on the first."""
    messages = []
    for start in range(0, len(buttons), MAX_BUTTONS):
        group = buttons[start:start + MAX_BUTTONS]
        label = shorten(text, BUTTON_TEXT_LIMIT, "button message text", adjustments) if start == 0 else MORE_TEXT
        messages.append({"attachment": {"type": "template", "payload": {
            "template_type": "button", "text": label, "buttons": [button(b, adjustments) for b in group]}}})
    if len(buttons) > MAX_BUTTONS:
        adjustments.append(f"{len(buttons)} buttons: Messenger shows {MAX_BUTTONS} per message; sent as "
                           f"{len(messages)} messages")
    return messages


def _text(text: str, buttons: tuple[Button, ...], replies: tuple[QuickReply, ...],
          adjustments: list[str]) -> list[dict[str, Any]]:
    kept, overflow = quick_replies(replies, adjustments)
    all_buttons = list(buttons) + overflow
    messages: list[dict[str, Any]] = []
    if all_buttons:
        chunks = split_text(text, TEXT_LIMIT) or [MORE_TEXT]
        last = chunks.pop()
        if len(last) > BUTTON_TEXT_LIMIT:
            parts = split_text(last, BUTTON_TEXT_LIMIT)
            last = parts.pop()
            chunks += parts
            adjustments.append(f"text with buttons is longer than {BUTTON_TEXT_LIMIT} characters; "
                               "the buttons go with its last part")
        messages += [{"text": chunk} for chunk in chunks]
        messages += _button_messages(last, all_buttons, adjustments)
    else:
        chunks = split_text(text, TEXT_LIMIT)
        if len(chunks) > 1:
            adjustments.append(f"text of {len(text)} characters split into {len(chunks)} messages")
        messages += [{"text": chunk} for chunk in chunks]
    if kept:
        if not messages:
            messages.append({"text": MORE_TEXT})
        messages[-1]["quick_replies"] = kept
    return messages


def _card(card: Card, adjustments: list[str]) -> tuple[dict[str, Any], list[Button]]:
    element: dict[str, Any] = {"title": shorten(card.title, CARD_TEXT_LIMIT, "card title", adjustments)}
    if card.subtitle:
        element["subtitle"] = shorten(card.subtitle, CARD_TEXT_LIMIT, "card subtitle", adjustments)
    if card.image_url:
        element["image_url"] = card.image_url
    if card.buttons:
        element["buttons"] = [button(b, adjustments) for b in card.buttons[:MAX_BUTTONS]]
    overflow = list(card.buttons[MAX_BUTTONS:])
    if overflow:
        adjustments.append(f"card {card.title!r} has {len(card.buttons)} buttons: the ones beyond {MAX_BUTTONS} "
                           "follow as a button message")
    if len(element) == 1:
        element["subtitle"] = MORE_TEXT  # Messenger needs one field besides the title
    return element, overflow


def _carousel(message: Carousel, adjustments: list[str]) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    follow_ups: list[dict[str, Any]] = []
    cards = list(message.cards)
    if len(cards) > MAX_CARDS:
        adjustments.append(f"{len(cards)} cards: Messenger shows {MAX_CARDS} per carousel; sent as "
                           f"{-(-len(cards) // MAX_CARDS)} carousels")
    if not cards:
        adjustments.append("a carousel without cards")
        return _text(MORE_TEXT, (), message.quick_replies, adjustments) if message.quick_replies else []
    for start in range(0, len(cards), MAX_CARDS):
        elements = []
        for card in cards[start:start + MAX_CARDS]:
            element, overflow = _card(card, adjustments)
            elements.append(element)
            if overflow:
                follow_ups += _button_messages(card.title, overflow, adjustments)
        messages.append({"attachment": {"type": "template", "payload": {
            "template_type": "generic", "image_aspect_ratio": "horizontal", "elements": elements}}})
    messages += follow_ups
    kept, overflow_replies = quick_replies(message.quick_replies, adjustments)
    if overflow_replies:
        messages += _button_messages(MORE_TEXT, overflow_replies, adjustments)
    if kept:
        messages[-1]["quick_replies"] = kept
    return messages


def _media(message: Media, adjustments: list[str]) -> list[dict[str, Any]]:
    replies = message.quick_replies
    if message.buttons and message.media in ("image", "gif") and len(message.caption) <= CARD_TEXT_LIMIT:
        # An image (or GIF) with its call-to-action buttons in one bubble: a one-card generic template.
        card = Card(message.caption or MORE_TEXT, "", message.url, message.buttons)
        return _carousel(Carousel((card,), replies), adjustments)
    messages: list[dict[str, Any]] = [{"attachment": {"type": "video" if message.media == "video" else "image",
                                                      "payload": {"url": message.url, "is_reusable": True}}}]
    if message.caption or message.buttons:
        messages += _text(message.caption or MORE_TEXT, message.buttons, (), adjustments)
    kept, overflow = quick_replies(replies, adjustments)
    if overflow:
        messages += _button_messages(MORE_TEXT, overflow, adjustments)
    if kept:
        messages[-1]["quick_replies"] = kept
    return messages


def render(message: Outbound) -> Rendered:
    result = Rendered()
    adjustments = result.adjustments
    if isinstance(message, Text):
        bodies = _text(message.text, message.buttons, message.quick_replies, adjustments)
    elif isinstance(message, Media):
        bodies = _media(message, adjustments)
    elif isinstance(message, Carousel):
        bodies = _carousel(message, adjustments)
    elif isinstance(message, Typing):
        result.bodies.append({"sender_action": "typing_on"})
        return result
    elif isinstance(message, Custom):
        custom = message.data.get("messenger") if isinstance(message.data, dict) else None
        if isinstance(custom, dict):
            result.bodies.append({"message": custom})
        else:
            adjustments.append("a custom message without a 'messenger' object has no Messenger form; not sent")
        return result
    else:  # pragma: no cover - the union has no other member
        raise TypeError(type(message))
    result.bodies.extend({"message": body} for body in bodies)
    return result


def render_all(messages: list[Outbound]) -> Rendered:
    combined = Rendered()
    for message in messages:
        rendered = render(message)
        combined.bodies += rendered.bodies
        combined.adjustments += rendered.adjustments
    return combined


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
