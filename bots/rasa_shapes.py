"""Rasa's shapes: a button both ways, and a response as Rasa's REST channel sends it.

One place, so a button reads the same in a REST reply, in a tracker's
``BotUttered`` and after a round trip through an action, and so a custom
action's response and Threadline's own messages reach a REST client alike.
"""

from __future__ import annotations

from typing import Any

from bots.types import Button


def rasa_button(title: str, kind: str, value: str) -> dict[str, Any]:
    """A button as Rasa's channels and ``BotUttered`` data carry it."""
    if kind == "url":
        return {"title": title, "url": value, "type": "web_url"}
    if kind == "phone":
        return {"title": title, "payload": value, "type": "phone_number"}
    if kind == "continue":  # a link to this thread on another channel, made when sent (see bots.linking)
        return {"title": title, "payload": value, "type": "continue_in"}
    return {"title": title, "payload": value}


def button_from_rasa(raw: Any) -> Button | None:
    """The inverse, lenient as Rasa is: a URL makes a link button; no title, no button."""
    if not isinstance(raw, dict) or not raw.get("title"):
        return None
    title = str(raw["title"])
    kind = raw.get("type")
    if raw.get("url") or kind == "web_url":
        return Button(title, "url", str(raw.get("url") or raw.get("payload") or ""))
    if kind == "phone_number":
        return Button(title, "phone", str(raw.get("payload") or ""))
    if kind == "continue_in" and isinstance(raw.get("payload"), str) and raw["payload"].isidentifier():
        return Button(title, "continue", str(raw["payload"]))
    return Button(title, "postback", str(raw.get("payload") or f"/{title}"))


def rest_items(response: dict[str, Any]) -> list[dict[str, Any]]:
    """One bot response (its ``text``, ``buttons``, ``quick_replies``, ``custom``, ``image``, ``attachment``,
    ``elements``) as the items Rasa 3.x's ``CollectingOutputChannel`` collects for it, without ``recipient_id``.

    Rasa drops a response's empty values first, then sends, in this order: the text with its
    buttons (quick replies win over buttons), or else the text split on blank lines; the custom
    payload; the image; the attachment; one ``"<title> : <subtitle>"`` item per element with the
    element's buttons. Values go out as given; keys whose value is None are left out.
    """
    response = {k: v for k, v in response.items() if v}
    items: list[dict[str, Any]] = []
    text = response.get("text")
    buttons = response.get("quick_replies") or response.get("buttons")
    if buttons:
        items.append({"text": text, "buttons": buttons} if text is not None else {"buttons": buttons})
    elif text:
        items.extend({"text": part} for part in str(text).strip().split("\n\n"))
    for key in ("custom", "image", "attachment"):
        if response.get(key):
            items.append({key: response[key]})
    elements = response.get("elements")
    for element in elements if isinstance(elements, list) else []:
        if isinstance(element, dict):
            title, subtitle = element.get("title", ""), element.get("subtitle", "")
            items.append({"text": f"{title} : {subtitle}", "buttons": element.get("buttons", [])})
    return items
