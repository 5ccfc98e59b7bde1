"""A message or event arriving: an open question answered, a flow started, or the thread's status changed.

Events include what is not the customer's own doing: delivery receipts, a
person answering from an inbox, Messenger's opt-ins and handover protocol.
"""

from __future__ import annotations

from typing import Any

from bots.flow.answers import coerce
from bots.flow.corrections import correct_ended
from bots.flow.ellipsis import same_request_again
from bots.flow.interpreter import interrupt, start_flow
from bots.flow.model import AskOp
from bots.flow.questions import answer
from bots.flow.run import Run
from bots.flow.state import MAX_SITE_EVENTS, Frame
from bots.flow.triggers import REQUEST_SURE, message_payload
from bots.types import Inbound, NLUResult, Payload, short_locale

RECEIPT_EVENTS = frozenset({"message_delivered", "message_read"})
AGENT_MESSAGE = "agent_message"
HANDOVER = "handover"


def on_message(run: Run, inbound: Inbound, nlu: NLUResult | None) -> None:
    """The customer wrote (or tapped a button): note it, then cancel, answer the open question, or start a flow."""
    state, bot = run.state, run.bot
    text = inbound.text.strip()
    _note_inbound(run, inbound.timestamp)
    run.log(
        "user",
        text=text,
        parse_data=nlu.as_parse_data() if nlu else None,
        message_id=inbound.message_id,
        metadata=inbound.metadata,
    )
    if any(r["kill_on_user_message"] for r in state.reminders):
        for reminder in state.reminders:
            if reminder["kill_on_user_message"]:
                run.log("reminder", status="cancelled", name=reminder["name"], reason="user_message")
        state.set_reminders([r for r in state.reminders if not r["kill_on_user_message"]])
    if (
        nlu is not None
        and nlu.language in bot.languages
        and nlu.language != state.language
        and (state.language is None or (nlu.language_confidence > 0 and has_language_signal(inbound.text, nlu)))
    ):
        # A new thread takes the NLU's best answer (which already weighed the channel's locale);
        # an existing one moves only on evidence from the text itself.
        run.log("language", previous=state.language, language=nlu.language, confidence=nlu.language_confidence)
        state.language = nlu.language
    if state.language is None:
        _language_from_hint(run, inbound)
    if state.handoff or inbound.metadata.get("observe_only"):
        return  # a person (or another app) has this conversation: record, do not answer
    run.turn.nlu = nlu
    payload = message_payload(text, nlu)
    language = state.language if state.language is not None else bot.default_language  # set above: typing only
    triggers = run.prepared.triggers
    open_flow = state.stack[-1].flow if state.stack else None
    if triggers.is_cancel(text, nlu, language, open_flow) and not _request_instead(run, text, payload, nlu, language):
        _cancel(run)
        return
    ended = state.ended  # the flow of the turn before ("and the marathon?" asks it again)
    if not state.stack and correct_ended(run, text, nlu):
        return
    top = state.stack[-1] if state.stack else None
    # The open question's slot is filled (and checked) as its answer, unless the message is an aside; an answer
    # a running flow already has changes only by a correction, which re-runs the steps after it.
    held = {slot for frame in state.stack for slot in frame.asked} | {_asked_slot(run, top)}
    for name, (value, span) in _entity_values(run, inbound.text, nlu, payload).items():
        run.turn.filled[name] = (value, span)
        if name not in held:
            run.set_slot(name, value, "entity")
    if not state.stack and payload is None and (again := same_request_again(run, ended, text)) is not None:
        run.log("flow", flow=again, status="asked_again", reason="ellipsis")
        start_flow(run, again, prefill=text)
        return
    match = triggers.find(text, payload, nlu, language)
    if match is not None and match.kind in ("payload", "intent"):
        run.turn.trigger_intent = payload.name[1:] if payload is not None else nlu.intent if nlu else None
    if top is not None and top.waiting:
        run.turn.prefill = None if payload is not None else text
        answer(run, top, text, nlu, match)
        return
    state.stack.clear()
    if match is None:
        state.fallback_streak += 1
        if bot.fallback_flow is not None:
            start_flow(run, bot.fallback_flow, prefill=None)
        return
    state.fallback_streak = 0
    start_flow(run, match.flow, prefill=None if payload is not None else text)


def has_language_signal(text: str, nlu: NLUResult) -> bool:
    """Whether a message has words of its own, once its values are taken out: an e-mail address, an order number,
    a date or an amount in digits ("anna@example.com", "ST-123456", "2030-05-12") is written alike in every
    language, so a message of such values alone never moves a thread's language."""
    kept = list(text)
    for entity in nlu.entities:
        if entity.start is not None and entity.end is not None:
            span = text[entity.start : entity.end]
            if "@" in span or any(ch.isdigit() for ch in span):
                kept[entity.start : entity.end] = " " * (entity.end - entity.start)
    return any(ch.isalpha() for ch in kept)


def _asked_slot(run: Run, top: Frame | None) -> str | None:
    if top is None or not top.waiting:
        return None
    op = run.bot.flows[top.flow].ops[top.pc]
    return op.slot if isinstance(op, AskOp) else None


def _entity_values(
    run: Run, raw: str, nlu: NLUResult | None, payload: Payload | None
) -> dict[str, tuple[Any, tuple[int, int] | None]]:
    """Slot values the message carries (NLU entities, then a payload's), each checked against its slot's type."""
    offset = len(raw) - len(raw.lstrip())  # the engine reads the stripped text; entity offsets count from the raw
    found: dict[str, tuple[Any, tuple[int, int] | None]] = {}
    candidates: list[tuple[str, Any, tuple[int, int] | None]] = [
        (e.entity, e.value, (e.start - offset, e.end - offset) if e.start is not None and e.end is not None else None)
        for e in (nlu.entities if nlu else ())
    ]
    if payload is not None:
        candidates += [(name, value, None) for name, value in payload.entities.items()]
    for name, value, span in candidates:
        slot = run.bot.slots.get(name)
        if slot is None:
            continue
        checked = coerce(value, slot)
        if checked.ok:
            found[name] = (checked.value, span)
        else:
            run.log("slot_rejected", name=name, value=value, source="entity")
    return found


def on_event(run: Run, inbound: Inbound) -> None:
    """Something happened (on the site, in Messenger): record it, and start the flow it triggers, if any."""
    state = run.state
    name, data = inbound.event, dict(inbound.data)
    if name in RECEIPT_EVENTS:
        run.log("receipt", name=name, data=data)  # delivery/read: no interaction, nothing to answer
        return
    if name == AGENT_MESSAGE:
        _agent_message(run, data)
        return
    if name == HANDOVER:
        _handover(run, data)
        return
    if name == "optin":
        _optin(run, data)
    state.last_inbound_by_channel[run.channel] = inbound.timestamp or run.now
    state.channel = run.channel  # where the customer was last active
    state.site_events.append({"name": name, "data": data, "ts": run.now, "channel": run.channel})
    del state.site_events[:-MAX_SITE_EVENTS]
    run.log("site_event", name=name, data=data, metadata=inbound.metadata)
    if state.language is None:
        _language_from_hint(run, inbound)
    if state.handoff or inbound.metadata.get("observe_only"):
        return  # a person or another app has this conversation: context is kept, nothing is answered
    run.turn.event_data = data
    flow = _event_flow(run, name, data)
    if flow is None:
        return
    top = state.stack[-1] if state.stack else None
    if top is not None and top.waiting:
        if run.bot.flows[top.flow].interruptible:
            interrupt(run, top, flow, trigger="event")
        return
    state.stack.clear()
    start_flow(run, flow, prefill=None)


def _note_inbound(run: Run, at: float) -> None:
    state = run.state
    state.turn += 1
    state.channel = run.channel
    state.last_inbound_at = run.now
    # when the person acted (Messenger's window counts from it), not when we got round to it
    state.last_inbound_by_channel[run.channel] = min(at, run.now) if at else run.now


def _request_instead(run: Run, text: str, payload: Payload | None, nlu: NLUResult | None, language: str) -> bool:
    """With nothing open there is nothing to cancel: a cancel phrase the NLU is sure is a request that starts a
    flow is that request ("cancel it please" right after an order's status cancels the order; it got "No
    problem", as a "never mind" does). "never mind", "nvm", "forget it" stay the idle response."""
    if run.state.stack or nlu is None or nlu.intent is None or nlu.confidence < REQUEST_SURE:
        return False
    if nlu.intent in run.bot.cancel.intents:
        return False
    return run.prepared.triggers.find(text, payload, nlu, language) is not None


def _cancel(run: Run) -> None:
    """Close whatever is open and say so; with nothing open, say the idle response: nothing was stopped."""
    stopped = bool(run.state.stack)
    for frame in reversed(run.state.stack):
        run.log("flow", flow=frame.flow, status="cancelled")
    run.state.stack.clear()
    run.state.message_tag = None
    said = run.bot.cancel.response if stopped else run.bot.cancel.idle_response
    if said is not None:
        run.say(said)


def _agent_message(run: Run, data: dict[str, Any]) -> None:
    """A person answered (e.g. from the Facebook Page inbox): record it and let the person have the chat."""
    run.log("agent", text=data.get("text", ""), by=data.get("by", ""), data=data)
    if not run.state.handoff:
        for frame in reversed(run.state.stack):
            run.log("flow", flow=frame.flow, status="ended", reason="agent")
        run.state.stack.clear()
        run.state.handoff = True
        run.log("handoff", active=True, reason="agent_message")


def _optin(run: Run, data: dict[str, Any]) -> None:
    """Messenger notification opt-ins: keep the token, and honour "stop notifications"."""
    token = data.get("notification_messages_token") or data.get("one_time_notif_token")
    if token:
        run.state.notification_token = {
            k: data.get(k)
            for k in (
                "notification_messages_token",
                "one_time_notif_token",
                "token_expiry_timestamp",
                "notification_messages_frequency",
                "type",
            )
            if data.get(k) is not None
        }
    status = str(data.get("notification_messages_status") or "").upper()
    if status in ("STOP NOTIFICATIONS", "RESUME NOTIFICATIONS"):
        opted_out = status.startswith("STOP")
        if run.state.opted_out != opted_out:
            run.state.opted_out = opted_out
            run.log("opt_out", opted_out=opted_out, source="messenger_notifications")


def _handover(run: Run, data: dict[str, Any]) -> None:
    """Messenger's handover protocol: another app took the thread, or passed it (back) to us."""
    run.log("handover", **data)
    if data.get("action") not in ("taken", "passed"):
        return  # a request for control changes nothing until control is actually passed
    taken = data.get("action") == "taken"
    if taken != run.state.handoff:
        run.state.stack.clear()
        run.state.handoff = taken
        run.log("handoff", active=taken, reason="handover")


def _language_from_hint(run: Run, inbound: Inbound) -> None:
    hint = short_locale(inbound.language_hint)
    run.state.language = hint if hint in run.bot.languages else run.bot.default_language


def _event_flow(run: Run, name: str, data: dict[str, Any]) -> str | None:
    for flow in run.bot.flows.values():
        if name == "referral" and data.get("ref") in flow.trigger.refs:
            return flow.name
        for trigger in flow.trigger.events:
            if trigger.name == name and (trigger.when is None or run.condition(trigger.when, flow.name)):
                return flow.name
    return None
