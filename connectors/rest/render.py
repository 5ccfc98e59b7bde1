"""Messages as Rasa's REST channel answers them: ``CollectingOutputChannel`` of Rasa 3.x, item for item.

A message made from a custom action's response carries the items Rasa would
send for that response, computed from the response as the action gave it
(``rasa``; see :func:`bots.rasa_shapes.rest_items`): a PDF attachment stays a
PDF link, a list payload stays a list, a button keeps its extra keys.
Threadline's own messages are put in Rasa's response shape first and go
through the same function: a text with its buttons, or its blank-line parts;
a picture after its caption; a carousel's cards as Rasa's elements
(``"<title> : <subtitle>"`` with the card's buttons); quick replies as
buttons, after a message's own.
"""

from __future__ import annotations

from typing import Any

from bots.rasa_shapes import rasa_button, rest_items
from bots.types import Button, Carousel, Custom, Media, Outbound, QuickReply, Text


def _buttons(buttons: tuple[Button, ...], quick_replies: tuple[QuickReply, ...] = ()) -> list[dict[str, Any]]:
    return [rasa_button(b.title, b.kind, b.value) for b in buttons] + [
        {"title": q.title, "payload": q.payload} for q in quick_replies
    ]


def as_rasa_response(message: Outbound) -> dict[str, Any]:
    """A message of Threadline's own as the bot response Rasa would hold for it."""
    if isinstance(message, Text):
        return {"text": message.text, "buttons": _buttons(message.buttons, message.quick_replies)}
    if isinstance(message, Media):
        response: dict[str, Any] = {
            "text": message.caption,
            "buttons": _buttons(message.buttons, message.quick_replies),
        }
        if message.media == "video":
            return {**response, "attachment": {"type": "video", "payload": {"src": message.url}}}
        return {**response, "image": message.url}
    if isinstance(message, Carousel):
        elements = [
            {"title": c.title, "subtitle": c.subtitle, "image_url": c.image_url, "buttons": _buttons(c.buttons)}
            for c in message.cards
        ]
        return {"buttons": _buttons((), message.quick_replies), "elements": elements}
    if isinstance(message, Custom):
        return {"custom": message.data}
    return {}  # typing: a request/response channel has no way to show it


def render(recipient_id: str, messages: list[Outbound]) -> list[dict[str, Any]]:
    """Messages as the JSON list Rasa's REST channel would answer with."""
    out: list[dict[str, Any]] = []
    for message in messages:
        rasa = getattr(message, "rasa", None)
        items = rasa if isinstance(rasa, list) else rest_items(as_rasa_response(message))
        out.extend({"recipient_id": recipient_id, **item} for item in items)
    return out
