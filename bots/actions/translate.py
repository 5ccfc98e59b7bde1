"""An action's answer (Rasa ``events`` and dispatcher ``responses``) as engine effects.

The wire vocabulary stops here: the engine only sees :mod:`bots.flow.effects`.
Anything an action returns that Threadline does not apply is reported once
per action and event type in the log, and recorded on the thread's action
event, instead of being silently dropped.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import Any

from bots.flow import effects as fx
from bots.flow.engine import ActionOutcome
from bots.rasa_shapes import button_from_rasa, rest_items
from bots.types import Button, Card, Carousel, Custom, Media, MediaKind, Outbound, QuickReply, Text, Typing

log = logging.getLogger(__name__)
_REPORTED: set[tuple[str, str]] = set()
# Events that only describe what Rasa itself did; an action returning them changes nothing here either.
_NOTHING_TO_DO = frozenset({"action"})


class MalformedResult(ValueError):
    """The action (or action server) answered something that is not Rasa's response shape."""


def _report_once(action: str, what: str) -> None:
    if (action, what) not in _REPORTED:
        _REPORTED.add((action, what))
        log.warning(
            "action %s returned %s, which Threadline does not support; it was ignored "
            "(docs/actions.md lists what is supported)",
            action,
            what,
        )


def _buttons(raw: Any) -> tuple[Button, ...]:
    return tuple(b for b in map(button_from_rasa, raw if isinstance(raw, list) else []) if b is not None)


def _quick_replies(raw: Any) -> tuple[QuickReply, ...]:
    replies = []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, dict) and item.get("title"):
            replies.append(QuickReply(str(item["title"]), str(item.get("payload") or item["title"])))
    return tuple(replies)


_PICTURES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".svg")
_VIDEOS = (".mp4", ".webm", ".mov", ".m4v", ".ogv")


def _media_kind(url: str, declared: str | None) -> MediaKind | None:
    """What the URL shows, from the declared type or else its extension; None for anything else (a PDF)."""
    path = url.lower().split("?")[0]
    if path.endswith(".gif") or declared == "gif":
        return "gif"
    if declared in ("image", "video"):
        return "image" if declared == "image" else "video"
    if path.endswith(_PICTURES):
        return "image"
    return "video" if path.endswith(_VIDEOS) else None


def _attachment(raw: Any, text: str | None, buttons: tuple[Button, ...]) -> list[Outbound]:
    """Rasa's ``attachment``, kept as given for channels that send it so (REST), with a form for the others."""
    said: list[Outbound] = []
    if isinstance(raw, str):
        url, declared, title = raw, None, ""
    elif isinstance(raw, dict):
        payload: dict[str, Any] = raw["payload"] if isinstance(raw.get("payload"), dict) else {}
        url = str(payload.get("src") or payload.get("url") or raw.get("url") or "")
        declared = raw.get("type") if isinstance(raw.get("type"), str) else None
        title = str(payload.get("title") or payload.get("name") or "")
    else:
        url, declared, title = "", None, ""
    kind = _media_kind(url, declared) if url and declared in ("image", "video", "gif", None) else None
    if kind is not None:
        return [Media(kind, url, text or "", buttons)]
    if text is not None or buttons:
        said.append(Text(text or "", buttons))
    if url:  # a file (a PDF) stays a link to the file
        said.append(Text(title or url, (Button(title or "Download", "url", url),)))
    else:
        said.append(Custom({"attachment": raw}))
    return said


def _card(raw: Any) -> Card | None:
    if not isinstance(raw, dict) or not raw.get("title"):
        return None
    return Card(
        str(raw["title"]),
        str(raw.get("subtitle") or ""),
        str(raw.get("image_url") or raw.get("image") or ""),
        _buttons(raw.get("buttons")),
    )


def message_effects(message: dict[str, Any]) -> list[fx.Effect]:
    """One ``dispatcher.utter_message`` (or BotUttered) as messages, in the order Rasa's channels send them."""
    if not isinstance(message, dict):
        raise MalformedResult(f"a response must be an object, not {type(message).__name__}")
    text = message.get("text")
    text = str(text) if text not in (None, "") else None
    buttons = _buttons(message.get("buttons"))
    quick_replies = _quick_replies(message.get("quick_replies"))
    out: list[fx.Effect] = []
    name = message.get("response") or message.get("template")
    if name:
        known = {
            "text",
            "buttons",
            "elements",
            "custom",
            "template",
            "response",
            "image",
            "attachment",
            "quick_replies",
            "json_message",
        }
        values = {k: v for k, v in message.items() if k not in known}
        # Rasa fills the response, then lays the action's own non-empty text, image and custom over it
        overrides = {k: message[k] for k in ("text", "image") if message.get(k)}
        if message.get("custom") or message.get("json_message"):
            overrides["custom"] = message.get("custom") or message.get("json_message")
        out.append(fx.SayResponse(str(name), values, buttons, quick_replies, overrides))
        buttons = quick_replies = ()
        text = None
        message = {k: v for k, v in message.items() if k not in ("text", "image", "custom", "json_message")}
    # Rasa's order: the text (with its buttons), the custom payload, the image, the attachment, the elements.
    image, attachment = message.get("image"), message.get("attachment")
    custom = message.get("custom") or message.get("json_message")
    if (text is not None or buttons) and (custom or not (image or attachment)):
        out.append(fx.Say(Text(text or "", buttons)))  # buttons without a text: Rasa sends no text either
        text, buttons = None, ()
    if custom:
        out.append(fx.Say(Custom(custom)))  # any JSON, as given: a list stays a list
    if image:  # the text and buttons go with the picture as its caption; REST sends them first, as Rasa
        out.append(fx.Say(Media(_media_kind(str(image), "image") or "image", str(image), text or "", buttons)))
        text, buttons = None, ()
    if attachment:
        out.extend(fx.Say(said) for said in _attachment(attachment, text, buttons))
    cards = tuple(c for c in map(_card, message.get("elements") or []) if c is not None)
    if cards:
        out.append(fx.Say(Carousel(cards)))
    if quick_replies:
        _attach_quick_replies(out, quick_replies)
    shown = {k: v for k, v in message.items() if k not in ("response", "template")}
    if name:  # these went with the named response
        shown = {k: v for k, v in shown.items() if k not in ("buttons", "quick_replies")}
    return _with_rest_items(out, rest_items(shown))


def _with_rest_items(out: list[fx.Effect], items: list[dict[str, Any]]) -> list[fx.Effect]:
    """The response's REST items (as Rasa sends it) on its first message, ``[]`` on the others."""
    first = True
    for index, effect in enumerate(out):
        if isinstance(effect, fx.Say) and not isinstance(effect.message, Typing):
            out[index] = fx.Say(replace(effect.message, rasa=items if first else []))
            first = False
    return out


def _attach_quick_replies(out: list[fx.Effect], replies: tuple[QuickReply, ...]) -> None:
    last = out[-1] if out else None
    if isinstance(last, fx.Say) and isinstance(last.message, (Text, Media, Carousel)):
        message = last.message
        out[-1] = fx.Say(type(message)(**{**vars(message), "quick_replies": replies}))
    else:
        out.append(fx.Say(Text("", (), replies)))


def _due(raw: Any) -> float:
    if isinstance(raw, (int, float)):
        return float(raw)
    moment = datetime.fromisoformat(str(raw))
    return moment.timestamp()  # a naive time is the server's local time, as in Rasa


def _entities(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return dict(raw)
    if isinstance(raw, list):
        return {str(e["entity"]): e.get("value") for e in raw if isinstance(e, dict) and e.get("entity")}
    return {}


def event_effects(action: str, event: dict[str, Any], ignored: list[str]) -> list[fx.Effect]:
    kind = event.get("event")
    if kind == "slot":
        return [fx.SetSlot(str(event.get("name")), event.get("value"))]
    if kind == "reset_slots":
        return [fx.ResetSlots()]
    if kind == "followup":
        return [fx.Followup(str(event.get("name")))]
    if kind == "active_loop":
        name = event.get("name")
        return [fx.SetActiveLoop(str(name) if name else None)]
    if kind == "pause":
        return [fx.Pause()]
    if kind == "resume":
        return [fx.Resume()]
    if kind == "restart":
        return [fx.Restart()]
    if kind == "rewind":
        return [fx.Rewind()]
    if kind == "session_started":
        return [fx.StartSession()]
    if kind == "bot":
        data = event.get("data")
        if not isinstance(data, dict):
            data = {}
        return message_effects({**data, "text": event.get("text")})
    if kind == "reminder":
        intent = str(event.get("intent") or "")
        if not intent:
            raise ValueError("ReminderScheduled without an intent")
        due = _due(event.get("date_time"))
        name = str(event.get("name") or f"{intent}@{due:.3f}")
        return [
            fx.ScheduleReminder(
                name, intent, due, _entities(event.get("entities")), bool(event.get("kill_on_user_msg", True))
            )
        ]
    if kind == "cancel_reminder":
        entities = _entities(event.get("entities")) or None
        return [fx.CancelReminder(event.get("name"), event.get("intent"), entities)]
    if kind in _NOTHING_TO_DO:
        return []
    ignored.append(str(kind))
    _report_once(action, f"the {kind!r} event")
    return []


def outcome_of(action: str, result: Any) -> ActionOutcome:
    """Rasa's ``{"events": [...], "responses": [...]}`` as an :class:`ActionOutcome`.

    Responses come first, then events, as Rasa applies them: a ``BotUttered``
    event is said after the dispatcher's messages.
    """
    if result is None:
        return ActionOutcome(ok=True)
    if not isinstance(result, dict):
        raise MalformedResult(f"the answer must be an object with events and responses, not {type(result).__name__}")
    events, responses = result.get("events") or [], result.get("responses") or []
    if not isinstance(events, list) or not isinstance(responses, list):
        raise MalformedResult("events and responses must be lists")
    effects: list[fx.Effect] = []
    ignored: list[str] = []
    for response in responses:
        try:
            effects.extend(message_effects(response))
        except MalformedResult as exc:
            ignored.append(f"response ({exc})")
            log.error("action %s returned a message Threadline cannot show: %s; it was ignored", action, exc)
    for event in events:
        # The action has run (and may have done things): one unusable event is skipped and reported,
        # the others still take effect.
        if not isinstance(event, dict):
            ignored.append(f"{type(event).__name__} (not an event)")
            _report_once(action, f"an event that is a {type(event).__name__}, not an object")
            continue
        try:
            effects.extend(event_effects(action, event, ignored))
        except (TypeError, ValueError, KeyError) as exc:
            ignored.append(f"{event.get('event')} (invalid: {exc})")
            log.error("action %s returned an invalid %r event: %s; it was ignored", action, event.get("event"), exc)
    return ActionOutcome(ok=True, effects=effects, ignored=ignored)
