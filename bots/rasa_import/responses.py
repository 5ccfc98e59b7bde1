"""Domain responses as Threadline texts, and the buttons and image each response shows when a flow says it.

Threadline's texts are words per language; buttons and media belong to the step that says them, so a
response's buttons and image are kept here and put on every step that says the response (``steps.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bots.located_yaml import Mark
from bots.rasa_import.report import Report
from bots.rasa_import.source import RasaProject

KNOWN_KEYS = {"text", "buttons", "image", "custom", "channel", "condition", "id", "button_type", "metadata"}


@dataclass
class Response:
    """One domain response: its text variants, and the buttons and image of its first variant."""

    key: str
    mark: Mark
    texts: list[str] = field(default_factory=list)
    buttons: list[dict[str, Any]] = field(default_factory=list)
    image: str | None = None


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
        if response.texts or response.buttons or response.image:
            responses[response.key] = response
            report.count("responses")
        else:
            report.skip(mark, "responses", f"response {key}", "no variant with text, buttons or an image")
    return responses


def _variant(project: RasaProject, response: Response, variants: Any, index: int, variant: Any, report: Report) -> None:
    mark = project.mark(variants, index)
    what = f"response {response.key}, variant {index + 1}"
    if not isinstance(variant, dict):
        report.skip(mark, "responses", what, "a variant must be a mapping such as 'text: ...'")
        return
    if variant.get("channel"):
        report.skip(
            mark,
            "responses",
            what,
            f"a variant for channel {variant['channel']!r}: every channel gets the default "
            "variant, rendered its own way (a channel's limits are applied by Threadline)",
        )
        return
    if variant.get("condition"):
        report.skip(
            mark,
            "responses",
            what,
            "a conditional variant: write the condition as an 'if:' step in the flow "
            "that says it (the unconditional variants were kept)",
        )
        return
    for key in variant:
        if key not in KNOWN_KEYS:
            report.skip(project.mark(variant, key), "responses", f"{what}: {key}", "not a key of a Rasa response")
    if isinstance(variant.get("text"), str) and variant["text"].strip():
        response.texts.append(unescape(variant["text"]).strip())
    if variant.get("custom") is not None:
        report.skip(
            project.mark(variant, "custom"),
            "responses",
            f"{what}: custom payload",
            "a flow step cannot send a custom payload; an action can (dispatcher.utter_message(json_message=...))",
        )
    if variant.get("image") and response.image is None:
        response.image = str(variant["image"])
    buttons = variant.get("buttons")
    if isinstance(buttons, list) and not response.buttons:
        for position, button in enumerate(buttons):
            converted = _button(button)
            if converted is None:
                report.skip(
                    project.mark(buttons, position),
                    "responses",
                    f"{what}, button {position + 1}",
                    "a button needs a title and a payload starting with '/' or a URL",
                )
            else:
                response.buttons.append(converted)


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
