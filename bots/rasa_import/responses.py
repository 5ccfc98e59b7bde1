"""Domain responses as Threadline responses: words per variant, and, where a variant has them, its buttons, image,
custom payload, channel and condition (Threadline's response variants, docs/flows.md).

A variant of words alone is written as a plain string; any other as a mapping with Rasa's keys. A form
question's choices are read from its prompt's first buttons (``flows.py``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bots.located_yaml import Mark
from bots.rasa_import.report import Report
from bots.rasa_import.source import RasaProject

KNOWN_KEYS = {"text", "buttons", "image", "custom", "channel", "condition", "id", "button_type", "metadata"}
# Rasa's input channels and Threadline's: the website widget takes socket.io's place
CHANNELS = {"facebook": "messenger", "instagram": "instagram", "rest": "rest", "socketio": "web"}
UNUSED = {
    "id": "a variant's id names it for Rasa's NLG server; Threadline picks variants itself",
    "button_type": "each channel lays out buttons its own way (Messenger: vertical, the widget: a row)",
    "metadata": "response metadata has no counterpart; an action can send data with json_message",
}


@dataclass
class Response:
    """One domain response: its variants as Threadline writes them, their words, and its first buttons."""

    key: str
    mark: Mark
    texts: list[str] = field(default_factory=list)
    variants: list[str | dict[str, Any]] = field(default_factory=list)
    buttons: list[dict[str, Any]] = field(default_factory=list)

    def value(self) -> Any:
        """What texts_<language>.yml holds for it: one variant as itself, several as a list."""
        return self.variants[0] if len(self.variants) == 1 else self.variants


def unescape(value: str) -> str:
    """Rasa writes a literal brace in a response as ``{{``; Threadline keeps braces that hold no name as they are."""
    return value.replace("{{", "{").replace("}}", "}")


def convert_responses(project: RasaProject, language: str, report: Report) -> dict[str, Response]:
    raw = project.domain.get("responses") or {}
    responses: dict[str, Response] = {}
    for key, variants in raw.items() if isinstance(raw, dict) else []:
        mark = project.mark(raw, key)
        response = Response(str(key), mark)
        for index, variant in enumerate(variants if isinstance(variants, list) else []):
            _variant(project, response, variants, index, variant, report)
        if response.variants:
            responses[response.key] = response
            report.count("responses")
        else:
            report.skip(mark, "responses", f"response {key}", "no variant with text, buttons, an image or a payload")
    return responses


def _variant(project: RasaProject, response: Response, variants: Any, index: int, variant: Any, report: Report) -> None:
    mark = project.mark(variants, index)
    what = f"response {response.key}, variant {index + 1}"
    if not isinstance(variant, dict):
        report.skip(mark, "responses", what, "a variant must be a mapping such as 'text: ...'")
        return
    converted: dict[str, Any] = {}
    channel = variant.get("channel")
    if channel:
        if str(channel) not in CHANNELS:
            report.skip(
                project.mark(variant, "channel"),
                "responses",
                what,
                f"a variant for channel {channel!r}, which Threadline has no connector for "
                f"(it has {', '.join(sorted(set(CHANNELS.values())))})",
            )
            return
        converted["channel"] = CHANNELS[str(channel)]
    if variant.get("condition"):
        condition = _condition(variant["condition"])
        unknown = _unknown_slots(project, variant["condition"])
        if unknown:
            report.skip(
                project.mark(variant, "condition"),
                "responses",
                what,
                f"its condition reads {', '.join(unknown)}, which the domain has no slot for",
            )
            return
        if condition is None:
            report.skip(
                project.mark(variant, "condition"),
                "responses",
                what,
                "a condition other than slot values (type: slot, name, value); write it as an 'if:' step",
            )
            return
        converted["if"] = condition
    for key in variant:
        if key not in KNOWN_KEYS:
            report.skip(project.mark(variant, key), "responses", f"{what}: {key}", "not a key of a Rasa response")
        elif key in UNUSED:
            report.skip(project.mark(variant, key), "responses", f"{what}: {key}", UNUSED[key])
    text = unescape(variant["text"]).strip() if isinstance(variant.get("text"), str) else ""
    if text:
        converted["text"] = text
    if variant.get("custom") is not None:
        converted["custom"] = variant["custom"]
    if variant.get("image"):
        converted["image"] = str(variant["image"])
    buttons = _buttons(project, variant.get("buttons"), what, report)
    if buttons:
        converted["buttons"] = buttons
        response.buttons = response.buttons or buttons
    if set(converted) - {"channel", "if"}:
        order = ("text", "buttons", "image", "custom", "channel", "if")  # as an author would write it
        response.texts.append(text)
        response.variants.append(
            text if set(converted) == {"text"} else {k: converted[k] for k in order if k in converted}
        )


def _buttons(project: RasaProject, buttons: Any, what: str, report: Report) -> list[dict[str, Any]]:
    converted = []
    for position, button in enumerate(buttons if isinstance(buttons, list) else []):
        done = _button(button)
        if done is None:
            report.skip(
                project.mark(buttons, position),
                "responses",
                f"{what}, button {position + 1}",
                "a button needs a title and a payload starting with '/' or a URL",
            )
        else:
            converted.append(done)
    return converted


def _condition(raw: Any) -> str | None:
    """Rasa's slot conditions (all must hold) as one expression: ``logged_in == True and tier == 'gold'``."""
    parts = []
    for item in raw if isinstance(raw, list) else [raw]:
        if not isinstance(item, dict) or item.get("type") != "slot" or not isinstance(item.get("name"), str):
            return None
        parts.append(f"{item['name']} == {literal(item.get('value'))}")
    return " and ".join(parts) or None


def _unknown_slots(project: RasaProject, raw: Any) -> list[str]:
    slots = project.domain.get("slots") or {}
    names = [item.get("name") for item in (raw if isinstance(raw, list) else [raw]) if isinstance(item, dict)]
    return [str(name) for name in names if isinstance(name, str) and name not in slots]


def literal(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)


def _button(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("title"), str) or not raw["title"].strip():
        return None
    title = {"title": raw["title"].strip()}
    if raw.get("url") or raw.get("type") == "web_url":
        return {**title, "url": str(raw.get("url") or raw.get("payload"))}
    payload = raw.get("payload")
    if isinstance(payload, str) and payload.startswith("/"):
        return {**title, "payload": unescape(payload)}
    return None
