"""Rasa's shape of a button, both ways: the REST channel and action trackers write it, actions send it back.

One place, so a button reads the same in a REST reply, in a tracker's
``BotUttered`` and after a round trip through an action.
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
