"""The thread as a Rasa action sees it: the ``tracker`` and ``domain`` of an action call.

Rasa actions read ``tracker.get_slot``, ``tracker.latest_message``,
``tracker.events`` and ``tracker.get_latest_input_channel()``; form
validation reads ``domain["forms"]``. Everything here is built from the
thread's own log and state, so an action written for Rasa finds what it
expects, and the same JSON goes to an action server or to in-process code.

Threadline's own notions map as follows (documented in docs/actions.md):
a flow declared as a form (``form: <name>``) is the ``active_loop`` while one
of its questions is open, and that question's slot the ``requested_slot``;
any other flow is no form at all; a hand-off is ``paused``; a site
event (``product_viewed``...) is an event ``{"event": "site_event", "name",
"data"}`` in ``events``; a person's reply is a ``bot`` event with
``metadata.by``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from bots.flow.forms import active_form
from bots.flow.model import AskOp, Bot, ResponseVariant
from bots.flow.state import ThreadState
from bots.rasa_shapes import rasa_button
from bots.types import ThreadEvent

# Our slot types as Rasa slot types (rasa/shared/core/slots.py)
_SLOT_TYPES = {
    "text": "text",
    "email": "text",
    "phone": "text",
    "regex": "text",
    "number": "float",
    "bool": "bool",
    "choice": "categorical",
    "any": "any",
}


@dataclass(frozen=True)
class ActionCall:
    """One action to run on one thread, with everything its tracker is built from."""

    name: str
    thread_id: str
    channel: str  # where the turn came from ("rest", "web", "messenger", or "" for a reminder)
    state: ThreadState
    latest_message: dict[str, Any] | None  # the turn's parse data (Rasa's shape plus language)
    history: list[ThreadEvent] = field(default_factory=list)  # stored tail and this turn so far, oldest first
    user_id: str | None = None  # the customer's id on that channel (a PSID, a REST sender...)


def _buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [rasa_button(b.get("title"), b.get("kind"), b.get("value")) for b in message.get("buttons") or []]


def bot_uttered(data: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """A logged outbound message as Rasa's BotUttered ``text`` and ``data``."""
    kind = data.get("type")
    payload: dict[str, Any] = {}
    text: str | None = None
    if kind == "text":
        text = data.get("text")
        payload["buttons"] = _buttons(data)
    elif kind == "media":
        text = data.get("caption") or None
        if data.get("media") == "image":
            payload["image"] = data.get("url")
        else:
            payload["attachment"] = {
                "type": "video" if data.get("media") == "video" else "image",
                "payload": {"src": data.get("url")},
            }
        payload["buttons"] = _buttons(data)
    elif kind == "carousel":
        payload["elements"] = [
            {
                "title": c.get("title"),
                "subtitle": c.get("subtitle"),
                "image_url": c.get("image_url"),
                "buttons": _buttons(c),
            }
            for c in data.get("cards", [])
        ]
    elif kind == "custom":
        payload["custom"] = data.get("data")
    if data.get("quick_replies"):
        payload["quick_replies"] = [
            {"content_type": "text", "title": q.get("title"), "payload": q.get("payload")}
            for q in data["quick_replies"]
        ]
    return text, {k: v for k, v in payload.items() if v}


def rasa_events(history: list[ThreadEvent], forms: dict[str, str]) -> list[dict[str, Any]]:
    """The thread log in Rasa's event format; events Rasa has no word for are left out.

    ``forms`` maps each flow declared as a form to the form's name: only those start and end an ``active_loop``.
    """
    events: list[dict[str, Any]] = []
    for event in history:
        data, ts = event.data, event.timestamp
        kind = event.kind
        if kind == "user":
            events.append(
                {"event": "action", "name": "action_listen", "timestamp": ts, "policy": None, "confidence": None}
            )
            parse = dict(data.get("parse_data") or {"text": data.get("text"), "intent": {}, "entities": []})
            if data.get("message_id"):
                parse["message_id"] = data["message_id"]
            metadata = dict(data.get("metadata") or {})
            named = metadata.pop("input_channel", None)  # a REST request's own, as Rasa records it
            parse.setdefault("metadata", metadata)
            events.append(
                {
                    "event": "user",
                    "timestamp": ts,
                    "text": data.get("text"),
                    "parse_data": parse,
                    "input_channel": named if isinstance(named, str) and named else event.channel,
                    "message_id": data.get("message_id"),
                    "metadata": metadata,
                }
            )
        elif kind in ("bot", "agent"):
            text, payload = bot_uttered(data)
            metadata = {"channel": event.channel}
            if kind == "agent" or data.get("by"):
                metadata["by"] = data.get("by") or "person"
            events.append({"event": "bot", "timestamp": ts, "text": text, "data": payload, "metadata": metadata})
        elif kind == "slot" and data.get("reset"):
            continue  # part of a Restarted or SessionStarted, which Rasa's tracker shows without SlotSet events
        elif kind == "slot":
            events.append({"event": "slot", "timestamp": ts, "name": data.get("name"), "value": data.get("value")})
        elif kind == "action":
            events.append(
                {"event": "action", "timestamp": ts, "name": data.get("name"), "policy": None, "confidence": None}
            )
        elif kind == "flow" and data.get("flow") in forms:
            status = data.get("status")
            if status in ("started", "resumed"):
                # the slots this message filled come after the activation, as the candidates Rasa's form
                # appends: rasa-sdk's slots_to_validate reads the trailing slot events
                candidates = _trailing_slots(events)
                events.append({"event": "active_loop", "timestamp": ts, "name": forms[data["flow"]]})
                events.extend(candidates)
            elif status in ("ended", "cancelled", "failed", "ask_failed"):
                events.append({"event": "active_loop", "timestamp": ts, "name": None})
        elif kind == "form" and data.get("status") == "done":
            events.append({"event": "active_loop", "timestamp": ts, "name": None})
        elif kind == "handoff":
            events.append({"event": "pause" if data.get("active") else "resume", "timestamp": ts})
        elif kind == "site_event":
            events.append(
                {
                    "event": "site_event",
                    "timestamp": ts,
                    "name": data.get("name"),
                    "data": data.get("data") or {},
                    "input_channel": event.channel,
                }
            )
        elif kind == "restart":
            events.append({"event": "restart", "timestamp": ts})
        elif kind == "session" and data.get("status") == "started":
            events.append({"event": "session_started", "timestamp": ts})
        elif kind == "rewind":
            events.append({"event": "rewind", "timestamp": ts})
        elif kind == "reminder" and data.get("status") == "scheduled":
            events.append(
                {
                    "event": "reminder",
                    "timestamp": ts,
                    "intent": data.get("intent"),
                    "entities": data.get("entities"),
                    "date_time": data.get("due"),
                    "name": data.get("name"),
                    "kill_on_user_msg": data.get("kill_on_user_message"),
                }
            )
        elif kind == "reminder" and data.get("status") == "cancelled":
            events.append(
                {
                    "event": "cancel_reminder",
                    "timestamp": ts,
                    "name": data.get("name"),
                    "intent": None,
                    "entities": None,
                }
            )
    return events


def _trailing_slots(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Removes and returns the slot events at the end of ``events``."""
    count = 0
    while count < len(events) and events[-1 - count]["event"] == "slot":
        count += 1
    taken = events[len(events) - count :]
    del events[len(events) - count :]
    return taken


def tracker_of(call: ActionCall, bot: Bot) -> dict[str, Any]:
    """``DialogueStateTracker.current_state(EventVerbosity.ALL)`` for this thread."""
    state = call.state
    events = rasa_events(call.history, {flow.name: flow.form for flow in bot.flows.values() if flow.form})
    latest_user = next((e for e in reversed(events) if e["event"] == "user"), None)
    latest_message: dict[str, Any] = (
        dict(call.latest_message)
        if call.latest_message
        else (dict(latest_user["parse_data"]) if latest_user else {"intent": {}, "entities": [], "text": None})
    )
    if latest_user is not None:
        latest_message.setdefault("text", latest_user["text"])
        latest_message.setdefault("message_id", latest_user.get("message_id"))
        latest_message.setdefault("metadata", latest_user.get("metadata") or {})
    latest_action = next((e["name"] for e in reversed(events) if e["event"] == "action"), None)
    slots = {name: state.slots.get(name, slot.initial) for name, slot in bot.slots.items()}
    slots.update({k: v for k, v in state.slots.items() if k not in slots})
    slots.setdefault("language", state.language or bot.default_language)  # what the domain's responses vary on
    slots.setdefault("locale", bot.locales.get(slots["language"], slots["language"]))  # its dates' and amounts' way
    form = active_form(bot, state.stack)  # a question of a declared form is open; nothing else is a form
    slots.setdefault("requested_slot", form[2].slot if form else None)
    return {
        "sender_id": call.thread_id,
        "user_id": call.user_id,
        "slots": slots,
        "latest_message": latest_message,
        "latest_event_time": events[-1]["timestamp"] if events else None,
        "followup_action": None,
        "paused": state.handoff,
        "events": events,
        "latest_input_channel": latest_user["input_channel"] if latest_user else (call.channel or None),
        "active_loop": {"name": form[0].form} if form else {},
        "latest_action": {"action_name": latest_action} if latest_action else {},
        "latest_action_name": latest_action,
        # Threadline's additions: read them from the tracker dict (rasa-sdk's Tracker keeps the events)
        "language": state.language or bot.default_language,
        "channel": call.channel,
    }


class Domain:
    """The bot as Rasa's ``Domain.as_dict()``: intents, entities, slots, responses, actions, forms."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    @cached_property
    def as_dict(self) -> dict[str, Any]:
        bot = self.bot
        responses: dict[str, list[dict[str, Any]]] = {}
        for key, per_language in bot.responses.items():
            variants = []
            for language, texts in per_language.items():
                rich = bot.response_variants.get(key, {}).get(language)
                for index, text in enumerate(texts):
                    variant = {"text": text, "condition": [{"type": "slot", "name": "language", "value": language}]}
                    variants.append({**variant, **_shown_besides(rich[index], language)} if rich else variant)
            responses[key] = variants
        slots = {}
        for name, slot in bot.slots.items():
            definition: dict[str, Any] = {
                "type": _SLOT_TYPES.get(slot.type, "any"),
                "initial_value": slot.initial,
                "influence_conversation": False,
                "mappings": [{"type": "custom"}],
            }
            if slot.type == "choice":
                definition["values"] = [str(v) for v in slot.values]
            slots[name] = definition
        slots.setdefault(
            "requested_slot",
            {"type": "any", "initial_value": None, "influence_conversation": False, "mappings": [{"type": "custom"}]},
        )
        slots.setdefault(
            "language",
            {
                "type": "categorical",
                "values": list(bot.languages),
                "initial_value": bot.default_language,
                "influence_conversation": False,
                "mappings": [{"type": "custom"}],
            },
        )
        forms = {}
        for flow in bot.flows.values():
            if flow.form is not None:
                asked = list(dict.fromkeys(op.slot for op in flow.ops if isinstance(op, AskOp)))
                forms[flow.form] = {"required_slots": asked}
        return {
            "version": "3.1",
            "session_config": {"session_expiration_time": 0, "carry_over_slots_to_new_session": True},
            "intents": list(bot.intents),
            "entities": list(bot.slots),
            "slots": slots,
            "responses": responses,
            "actions": list(bot.actions),
            "forms": forms,
            "e2e_actions": [],
        }

    @cached_property
    def digest(self) -> str:
        """Fingerprint sent as ``domain_digest``: an action server that has it cached needs no domain."""
        return hashlib.sha256(
            json.dumps(self.as_dict, sort_keys=True, ensure_ascii=False, default=str).encode()
        ).hexdigest()


def _shown_besides(variant: ResponseVariant, language: str) -> dict[str, Any]:
    """A variant's buttons, image, custom payload and channel, as a Rasa domain response has them."""
    shown: dict[str, Any] = {}
    if variant.buttons:
        shown["buttons"] = [
            rasa_button(dict(b.title.inline).get(language, ""), b.kind, b.value.source) for b in variant.buttons
        ]
    if variant.image is not None:
        shown["image"] = variant.image.source
    if variant.custom is not None:
        shown["custom"] = variant.custom
    if variant.channel is not None:
        shown["channel"] = variant.channel
    return shown
