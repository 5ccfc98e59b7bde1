"""Channel-neutral messages -> Send API message bodies, within one Meta platform's limits.

Messenger and Instagram take the same message shapes (text with quick
replies, button template, generic template, media attachment, sender
action) with different limits (:class:`SendLimits`). A flow may ask for
more than a platform shows; nothing is ever dropped: long text is split at
sentence boundaries, extra buttons go into further button messages, extra
cards into further carousels, extra quick replies become buttons, and
over-long titles are shortened with an ellipsis. Each such change is
reported in ``Rendered.adjustments``.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bots.types import Button, Card, Carousel, Custom, Media, Outbound, QuickReply, Text, Typing
from connectors.base import RenderLimits

MORE_TEXT = "…"
_SENTENCE_END = re.compile(r"[.!?…](?:\s+|$)|[。！？](?:\s*)|\n+")


@dataclass(frozen=True)
class SendLimits:
    """What one platform's Send API takes in one message."""

    platform: str  # named in the adjustment notes
    text: int  # characters of a text message (bytes of its UTF-8 when ``text_in_bytes``)
    text_in_bytes: bool = False
    button_text: int = 640  # the text above a button template's buttons
    title: int = 20  # a button's or quick reply's title
    card_text: int = 80  # a card's title and subtitle
    buttons: int = 3
    quick_replies: int = 13
    cards: int = 10
    payload: int = 1000
    reusable_media: bool = True  # media by URL marked ``is_reusable``
    image_aspect_ratio: str | None = "horizontal"  # a generic template's, where the platform has the option
    custom_key: str = "messenger"  # a Custom message's object for this platform

    def render_limits(self) -> RenderLimits:
        """The same limits as the channel seam states them (what ``threadline validate`` checks flows against)."""
        return RenderLimits(
            text_chars=self.text,
            buttons=self.buttons,
            quick_replies=self.quick_replies,
            cards=self.cards,
            button_title_chars=self.title,
            quick_reply_title_chars=self.title,
            card_title_chars=self.card_text,
            payload_chars=self.payload,
        )

    def size(self, text: str) -> int:
        return len(text.encode("utf-8")) if self.text_in_bytes else len(text)


@dataclass
class Rendered:
    """The Send API bodies for neutral messages: each is {"message": ...} or {"sender_action": ...}."""

    bodies: list[dict[str, Any]] = field(default_factory=list)
    adjustments: list[str] = field(default_factory=list)


def shorten(text: str, limit: int, what: str, adjustments: list[str]) -> str:
    if len(text) <= limit:
        return text
    adjustments.append(f"{what} {text!r} is longer than {limit} characters; shortened")
    return text[: limit - 1].rstrip() + "…"


def split_text(text: str, limit: int, size: Callable[[str], int] = len) -> list[str]:
    """Chunks of at most ``limit`` (as ``size`` measures), cut after sentences where possible, else at spaces.

    The chunks are slices of the original, so line breaks survive and no spaces are added (Chinese and
    Japanese sentences have none between them).
    """
    text = text.strip()
    if size(text) <= limit:
        return [text] if text else []
    ends = [0]  # ends[i]: the size of text[:i]
    for char in text:
        ends.append(ends[-1] + size(char))
    cuts = [match.end() for match in _SENTENCE_END.finditer(text)]  # positions after a sentence and its spaces
    chunks: list[str] = []
    start = 0
    while ends[-1] - ends[start] > limit:
        window_end = max(start + 1, bisect_right(ends, ends[start] + limit) - 1)
        fitting = [cut for cut in cuts if start < cut <= window_end]
        if fitting:
            end = fitting[-1]
        else:  # no sentence ends in reach: the last space, else a hard cut
            space = text.rfind(" ", start, window_end)
            end = space + 1 if space > (start + window_end) // 2 else window_end
        chunk = text[start:end].strip()
        if chunk:
            chunks.append(chunk)
        start = end
    rest = text[start:].strip()
    if rest:
        chunks.append(rest)
    return chunks


class SendRenderer:
    """Renders neutral messages for one platform; ``render_all`` is the entry point."""

    def __init__(self, limits: SendLimits) -> None:
        self.limits = limits

    def render_all(self, messages: list[Outbound]) -> Rendered:
        result = Rendered()
        for message in messages:
            self._render(message, result)
        return result

    def _render(self, message: Outbound, result: Rendered) -> None:
        adjustments = result.adjustments
        if isinstance(message, Text):
            bodies = self._text(message.text, message.buttons, message.quick_replies, adjustments)
        elif isinstance(message, Media):
            bodies = self._media(message, adjustments)
        elif isinstance(message, Carousel):
            bodies = self._carousel(message, adjustments)
        elif isinstance(message, Typing):
            result.bodies.append({"sender_action": "typing_on"})
            return
        elif isinstance(message, Custom):
            key = self.limits.custom_key
            custom = message.data.get(key) if isinstance(message.data, dict) else None
            if isinstance(custom, dict):
                result.bodies.append({"message": custom})
            else:
                adjustments.append(
                    f"a custom message without a '{key}' object has no {self.limits.platform} form; not sent"
                )
            return
        else:  # pragma: no cover - the union has no other member
            raise TypeError(type(message))
        result.bodies.extend({"message": body} for body in bodies)

    # ------------------------------------------------------------------ pieces

    def button(self, item: Button, adjustments: list[str]) -> dict[str, Any]:
        title = shorten(item.title, self.limits.title, "button title", adjustments)
        if item.kind == "url":
            return {"type": "web_url", "url": item.value, "title": title}
        if item.kind == "phone":
            number = re.sub(r"[^\d+]", "", item.value)
            return {"type": "phone_number", "title": title, "payload": number}
        return {
            "type": "postback",
            "title": title,
            "payload": shorten(item.value, self.limits.payload, "payload", adjustments),
        }

    def quick_replies(
        self, items: tuple[QuickReply, ...], adjustments: list[str]
    ) -> tuple[list[dict[str, Any]], list[Button]]:
        """The quick replies the platform takes, and the ones beyond its maximum as postback buttons."""
        limit = self.limits.quick_replies
        kept = [
            {
                "content_type": "text",
                "title": shorten(q.title, self.limits.title, "quick reply title", adjustments),
                "payload": shorten(q.payload, self.limits.payload, "payload", adjustments),
            }
            for q in items[:limit]
        ]
        overflow = [Button(q.title, "postback", q.payload) for q in items[limit:]]
        if overflow:
            adjustments.append(
                f"{len(items)} quick replies: {self.limits.platform} shows {limit}; "
                f"the other {len(overflow)} are sent as buttons"
            )
        return kept, overflow

    def _button_messages(self, text: str, buttons: list[Button], adjustments: list[str]) -> list[dict[str, Any]]:
        """Button templates for ``buttons`` (as many per message as the platform shows); the text goes on the first."""
        per_message = self.limits.buttons
        messages = []
        for start in range(0, len(buttons), per_message):
            group = buttons[start : start + per_message]
            label = (
                shorten(text, self.limits.button_text, "button message text", adjustments) if start == 0 else MORE_TEXT
            )
            messages.append(
                {
                    "attachment": {
                        "type": "template",
                        "payload": {
                            "template_type": "button",
                            "text": label,
                            "buttons": [self.button(b, adjustments) for b in group],
                        },
                    }
                }
            )
        if len(buttons) > per_message:
            adjustments.append(
                f"{len(buttons)} buttons: {self.limits.platform} shows {per_message} per message; "
                f"sent as {len(messages)} messages"
            )
        return messages

    def _split(self, text: str) -> list[str]:
        return split_text(text, self.limits.text, self.limits.size)

    def _text(
        self, text: str, buttons: tuple[Button, ...], replies: tuple[QuickReply, ...], adjustments: list[str]
    ) -> list[dict[str, Any]]:
        kept, overflow = self.quick_replies(replies, adjustments)
        all_buttons = list(buttons) + overflow
        messages: list[dict[str, Any]] = []
        if all_buttons:
            chunks = self._split(text) or [MORE_TEXT]
            last = chunks.pop()
            if len(last) > self.limits.button_text:
                parts = split_text(last, self.limits.button_text)
                last = parts.pop()
                chunks += parts
                adjustments.append(
                    f"text with buttons is longer than {self.limits.button_text} characters; "
                    "the buttons go with its last part"
                )
            messages += [{"text": chunk} for chunk in chunks]
            messages += self._button_messages(last, all_buttons, adjustments)
        else:
            chunks = self._split(text)
            if len(chunks) > 1:
                adjustments.append(f"text of {len(text)} characters split into {len(chunks)} messages")
            messages += [{"text": chunk} for chunk in chunks]
        if kept:
            if not messages:
                messages.append({"text": MORE_TEXT})
            messages[-1]["quick_replies"] = kept
        return messages

    def _card(self, card: Card, adjustments: list[str]) -> tuple[dict[str, Any], list[Button]]:
        limits = self.limits
        element: dict[str, Any] = {"title": shorten(card.title, limits.card_text, "card title", adjustments)}
        if card.subtitle:
            element["subtitle"] = shorten(card.subtitle, limits.card_text, "card subtitle", adjustments)
        if card.image_url:
            element["image_url"] = card.image_url
        if card.buttons:
            element["buttons"] = [self.button(b, adjustments) for b in card.buttons[: limits.buttons]]
        overflow = list(card.buttons[limits.buttons :])
        if overflow:
            adjustments.append(
                f"card {card.title!r} has {len(card.buttons)} buttons: the ones beyond "
                f"{limits.buttons} follow as a button message"
            )
        if len(element) == 1:
            element["subtitle"] = MORE_TEXT  # the generic template needs one field besides the title
        return element, overflow

    def _carousel(self, message: Carousel, adjustments: list[str]) -> list[dict[str, Any]]:
        limits = self.limits
        messages: list[dict[str, Any]] = []
        follow_ups: list[dict[str, Any]] = []
        cards = list(message.cards)
        if len(cards) > limits.cards:
            adjustments.append(
                f"{len(cards)} cards: {limits.platform} shows {limits.cards} per carousel; sent as "
                f"{-(-len(cards) // limits.cards)} carousels"
            )
        if not cards:
            adjustments.append("a carousel without cards")
            return self._text(MORE_TEXT, (), message.quick_replies, adjustments) if message.quick_replies else []
        for start in range(0, len(cards), limits.cards):
            elements = []
            for card in cards[start : start + limits.cards]:
                element, overflow = self._card(card, adjustments)
                elements.append(element)
                if overflow:
                    follow_ups += self._button_messages(card.title, overflow, adjustments)
            payload: dict[str, Any] = {"template_type": "generic"}
            if limits.image_aspect_ratio:
                payload["image_aspect_ratio"] = limits.image_aspect_ratio
            payload["elements"] = elements
            messages.append({"attachment": {"type": "template", "payload": payload}})
        messages += follow_ups
        kept, overflow_replies = self.quick_replies(message.quick_replies, adjustments)
        if overflow_replies:
            messages += self._button_messages(MORE_TEXT, overflow_replies, adjustments)
        if kept:
            messages[-1]["quick_replies"] = kept
        return messages

    def _media(self, message: Media, adjustments: list[str]) -> list[dict[str, Any]]:
        replies = message.quick_replies
        if message.buttons and message.media in ("image", "gif") and len(message.caption) <= self.limits.card_text:
            # An image (or GIF) with its call-to-action buttons in one bubble: a one-card generic template.
            card = Card(message.caption or MORE_TEXT, "", message.url, message.buttons)
            return self._carousel(Carousel((card,), replies), adjustments)
        payload: dict[str, Any] = {"url": message.url}
        if self.limits.reusable_media:
            payload["is_reusable"] = True
        messages: list[dict[str, Any]] = [
            {"attachment": {"type": "video" if message.media == "video" else "image", "payload": payload}}
        ]
        if message.caption or message.buttons:
            messages += self._text(message.caption or MORE_TEXT, message.buttons, (), adjustments)
        kept, overflow = self.quick_replies(replies, adjustments)
        if overflow:
            messages += self._button_messages(MORE_TEXT, overflow, adjustments)
        if kept:
            messages[-1]["quick_replies"] = kept
        return messages
