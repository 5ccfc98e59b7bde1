"""Channel-neutral messages -> Instagram Send API bodies, within Instagram's limits.

Instagram's limits (Meta's Instagram Messaging pages "Send a Message",
"Quick Replies", "Button Template", "Generic Template"): text "UTF-8 and
1000 bytes or less" (measured here in bytes, which is also under the 1000
characters another page names); 13 quick replies of 20-character titles,
plain text only; the button template's text 640 characters with 1-3
buttons; a generic template of 10 elements, 80-character title and
subtitle, 3 buttons each; buttons are ``web_url`` or ``postback`` only.

Nothing is dropped (see connectors/meta/render.py): text is split at
sentence boundaries, extra buttons and cards go into further messages, and
a phone button, which Instagram does not have, becomes a line of text with
the number. Every change is reported in ``Rendered.adjustments``.
"""

from __future__ import annotations

import dataclasses

from bots.types import Button, Carousel, Media, Outbound, Text
from connectors.meta.render import Rendered, SendLimits, SendRenderer

LIMITS = SendLimits(
    "Instagram",
    1000,
    text_in_bytes=True,
    button_text=640,
    title=20,
    card_text=80,
    buttons=3,
    quick_replies=13,
    cards=10,
    payload=1000,
    reusable_media=False,
    image_aspect_ratio=None,
    custom_key="instagram",
)
_RENDERER = SendRenderer(LIMITS)


def _phone_lines(buttons: tuple[Button, ...], label: str = "") -> list[str]:
    return [f"{label}{b.title}: {b.value}" for b in buttons if b.kind == "phone"]


def _without_phones(buttons: tuple[Button, ...]) -> tuple[Button, ...]:
    return tuple(b for b in buttons if b.kind != "phone")


def _phones_as_text(message: Outbound, adjustments: list[str]) -> list[Outbound]:
    """The message without phone buttons, their numbers written out instead."""
    if isinstance(message, Text) and (lines := _phone_lines(message.buttons)):
        adjustments.append(f"{len(lines)} phone button(s): Instagram has none; the number is written in the text")
        text = "\n".join([message.text.rstrip(), "", *lines]).strip()
        return [dataclasses.replace(message, text=text, buttons=_without_phones(message.buttons))]
    if isinstance(message, Media) and (lines := _phone_lines(message.buttons)):
        adjustments.append(f"{len(lines)} phone button(s): Instagram has none; the number is written in the caption")
        caption = "\n".join([message.caption.rstrip(), "", *lines]).strip()
        return [dataclasses.replace(message, caption=caption, buttons=_without_phones(message.buttons))]
    if isinstance(message, Carousel):
        lines = [line for card in message.cards for line in _phone_lines(card.buttons, f"{card.title} – ")]
        if lines:
            adjustments.append(f"{len(lines)} phone button(s) on cards: Instagram has none; the numbers follow as text")
            cards = tuple(dataclasses.replace(c, buttons=_without_phones(c.buttons)) for c in message.cards)
            # the quick replies go under the last message, which is now the numbers
            return [Carousel(cards), Text("\n".join(lines), quick_replies=message.quick_replies)]
    return [message]


def render_all(messages: list[Outbound]) -> Rendered:
    """Send API bodies for Instagram, in order, and the adjustments made to fit."""
    adjustments: list[str] = []
    fitted = [part for message in messages for part in _phones_as_text(message, adjustments)]
    rendered = _RENDERER.render_all(fitted)
    rendered.adjustments[:0] = adjustments
    return rendered
