"""The flow engine: (state, inbound, NLU result) -> (new state, replies, log events).

Pure and deterministic: no I/O, no clock, no randomness. The caller passes
the time in, and a custom action is not called from here: the engine stops
with an :class:`ActionRequest`, the pipeline runs the action (I/O), and
:meth:`Engine.resume` carries on with its outcome. That keeps every
conversation replayable in tests, and keeps the engine free of the store,
the network and the channels.
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable

from bots.flow import effects as fx
from bots.flow.answers import Answer, coerce, fold, read_answer
from bots.flow.expressions import Expression, ExpressionError, Template, format_value
from bots.flow.model import (
    ActionOp, AskOp, Bot, BranchOp, ButtonDef, CarouselOp, EndOp, Flow, GotoFlowOp, HandoffOp, JumpOp,
    MediaOp, OptOutOp, QuickReplyDef, SayOp, SetOp, SlotDef, TextRef, TypingOp,
)
from bots.flow.effects import Effect
from bots.flow.state import MAX_SITE_EVENTS, Frame, ThreadState
from bots.types import (
    Button, Card, Carousel, Inbound, Media, NLUResult, Outbound, QuickReply, Text, ThreadEvent, Typing, short_locale,
)

MAX_OPS_PER_TURN = 200
MAX_ACTIONS_PER_TURN = 20
RECEIPT_EVENTS = frozenset({"message_delivered", "message_read"})
AGENT_MESSAGE = "agent_message"
HANDOVER = "handover"
_PAYLOAD = re.compile(r"^(/[^{\s]+)(\{.*\})?$", re.DOTALL)
_ACTION_FAILED = {
    "en": "Sorry, something went wrong on our side. Please try again in a moment.",
    "zh": "抱歉，我们这边出了点问题，请稍后再试。",
    "nl": "Sorry, er ging iets mis aan onze kant. Probeer het zo nog eens.",
    "fr": "Désolé, un problème est survenu de notre côté. Merci de réessayer dans un instant.",
    "de": "Entschuldigung, bei uns ist etwas schiefgelaufen. Bitte versuch es gleich noch einmal.",
    "it": "Scusa, qualcosa è andato storto da parte nostra. Riprova tra poco.",
    "pl": "Przepraszamy, coś poszło nie tak po naszej stronie. Spróbuj ponownie za chwilę.",
    "pt": "Desculpa, algo correu mal do nosso lado. Tenta novamente daqui a pouco.",
    "ro": "Ne pare rău, ceva nu a mers bine la noi. Te rugăm să încerci din nou în câteva momente.",
    "es": "Lo siento, algo ha fallado por nuestra parte. Inténtalo de nuevo en un momento.",
    "vi": "Xin lỗi, bên mình đang gặp sự cố. Bạn vui lòng thử lại sau ít phút nhé.",
}


def parse_payload(text: str) -> tuple[str, dict[str, Any]] | None:
    """``/name`` or ``/name{"entity": "value"}`` (Rasa's button payload form), else None."""
    match = _PAYLOAD.match(text.strip())
    if not match:
        return None
    entities: dict[str, Any] = {}
    if match.group(2):
        try:
            loaded = json.loads(match.group(2))
        except ValueError:
            return None
        if not isinstance(loaded, dict):
            return None
        entities = loaded
    return match.group(1), entities


@dataclass
class ActionRequest:
    """The engine needs a custom action run before it can go on.

    ``advance``: on success the flow moves past the action step (a flow's own
    step); a follow-up an action asked for leaves the flow where it is.
    ``error_pc``: where the flow goes when the action fails (None: apologise).
    """

    name: str
    flow: str
    error_pc: int | None = None
    advance: bool = True
    validate_slot: str | None = None  # a form validation action (``validate_<flow>``) checking this answer


@dataclass
class ActionOutcome:
    """What running a custom action produced: its effects, in the order the action returned them."""

    ok: bool = True
    effects: list[Effect] = field(default_factory=list)
    error: str | None = None
    ignored: list[str] = field(default_factory=list)  # events the action returned that Threadline does not apply


@dataclass
class Turn:
    state: ThreadState
    outbound: list[Outbound] = field(default_factory=list)
    events: list[ThreadEvent] = field(default_factory=list)
    action: ActionRequest | None = None
    event_data: dict[str, Any] = field(default_factory=dict)
    prefill: str | None = None
    before: ThreadState | None = None  # the state the turn started from: what a Rewind goes back to
    actions_run: int = 0
    message_tag: str | None = None  # the Messenger tag of a flow that spoke this turn (sends outside the window)
    reminder: dict[str, Any] | None = None  # the reminder this turn fired, if any


@dataclass(frozen=True)
class _Match:
    flow: str
    kind: str  # payload, regex, keyword, intent, event


def context_values(bot: Bot, state: ThreadState, *, channel: str, event: dict[str, Any] | None = None,
                   public_url: str = "") -> dict[str, Any]:
    """The names conditions and texts can use: slots, and what the thread knows about the customer.

    ``recent`` holds the data of the latest site event of each name (the
    product viewed last, the ad a Messenger referral came from), whichever
    channel it came from, so a text on Messenger can mention what the
    customer looked at on the website.
    """
    values = {name: state.slots.get(name) for name in bot.slots}
    recent: dict[str, Any] = {}
    for site_event in state.site_events:
        recent[site_event["name"]] = site_event["data"]
    values.update(language=state.language or bot.default_language, channel=channel,
                  fallback_streak=state.fallback_streak, event=event or {}, public_url=public_url,
                  thread={"turn": state.turn, "channel": state.channel}, recent=recent)
    return values


def context_functions(state: ThreadState, now: float) -> dict[str, Callable[..., Any]]:
    """Functions over the thread's site events; ``within_hours`` / ``within_days`` look back from now only."""
    events = state.site_events

    def matching(name: str, within_hours: float | None, within_days: float | None,
                 filters: dict[str, Any]) -> list[dict[str, Any]]:
        window = within_hours * 3600 if within_hours is not None else None
        if within_days is not None:
            window = min(window, within_days * 86400) if window is not None else within_days * 86400
        return [e for e in events if e["name"] == name and (window is None or now - e.get("ts", 0) <= window)
                and all(e["data"].get(k) == v for k, v in filters.items())]

    def count(name: str, within_hours: float | None = None, within_days: float | None = None, **filters: Any) -> int:
        return len(matching(name, within_hours, within_days, filters))

    def last(name: str, **filters: Any) -> dict[str, Any]:
        found = matching(name, None, None, filters)
        return dict(found[-1]["data"]) if found else {}

    def hours_since(name: str, **filters: Any) -> float | None:
        found = matching(name, None, None, filters)
        return (now - found[-1].get("ts", 0)) / 3600 if found else None

    return {"count": count, "last": last, "hours_since": hours_since, "len": len, "int": int, "float": float,
            "str": str, "lower": lambda v: str(v).lower(), "upper": lambda v: str(v).upper()}


class Engine:
    def __init__(self, bot: Bot, *, public_url: str = "") -> None:
        self.bot = bot
        self.public_url = public_url
        self._titles = {flow.name: self._choice_titles(flow) for flow in bot.flows.values()}
        self._keywords = self._compile_keywords()

    # ------------------------------------------------------------------ public API

    def new_state(self) -> ThreadState:
        return ThreadState(slots={name: slot.initial for name, slot in self.bot.slots.items()})

    def handle(self, state: ThreadState, inbound: Inbound, nlu: NLUResult | None, now: float) -> Turn:
        """Process one inbound message or event; returns the turn, maybe paused on an action."""
        turn = Turn(state.copy(), before=state)
        run = _Run(self, turn, inbound.channel, now)
        if inbound.kind == "event":
            run.on_event(inbound)
        else:
            run.on_message(inbound, nlu)
        return turn

    def resume(self, turn: Turn, outcome: ActionOutcome, channel: str, now: float) -> Turn:
        """Continue a turn that paused on an action, with what the action produced."""
        assert turn.action is not None, "resume() needs a turn paused on an action"
        run = _Run(self, turn, channel, now)
        run.on_action_outcome(outcome)
        return turn

    def fire_reminder(self, state: ThreadState, now: float, due_by: float | None = None) -> Turn | None:
        """The earliest reminder due by ``due_by`` (default: now) as a turn of its own; None when none is."""
        due = [r for r in state.reminders if r["due"] <= (now if due_by is None else due_by)]
        if not due:
            return None
        turn = Turn(state.copy())
        _Run(self, turn, state.channel, now).on_reminder(min(due, key=lambda r: (r["due"], r["name"])))
        return turn

    def matches(self, state: ThreadState, condition: Expression, now: float) -> bool:
        """Whether a thread meets a condition (a follow-up campaign's selection); raises ExpressionError."""
        return bool(condition.evaluate(context_values(self.bot, state, channel=state.channel,
                                                      public_url=self.public_url),
                                       context_functions(state, now)))

    def follow_up(self, state: ThreadState, now: float, *, campaign: str, channel: str, flow: str | None = None,
                  texts: dict[str, str] | None = None) -> Turn:
        """A proactive follow-up as a turn of its own: a flow started, or a text in the thread's language.

        A question the customer left open is interrupted (and resumed after)
        when its flow allows it, as a reminder would; the campaign is
        remembered so it reaches this thread once.
        """
        turn = Turn(state.copy())
        _Run(self, turn, channel, now).on_followup(campaign, flow, texts or {})
        return turn

    def release_handoff(self, state: ThreadState, now: float, by: str = "") -> Turn:
        turn = Turn(state.copy())
        if turn.state.handoff:
            turn.state.handoff = False
            turn.events.append(ThreadEvent("handoff", {"active": False, "by": by}, now))
        return turn

    # ------------------------------------------------------------------ text

    def text(self, ref: TextRef, state: ThreadState, values: dict[str, Any]) -> str:
        language = state.language or self.bot.default_language
        if ref.key is not None:
            per_language = self.bot.responses.get(ref.key, {})
            variants = per_language.get(language) or per_language.get(self.bot.default_language) or (ref.key,)
            chosen = variants[zlib.crc32(f"{ref.key}:{state.turn}".encode()) % len(variants)]
        else:
            inline = dict(ref.inline)
            chosen = inline.get(language) or inline.get(self.bot.default_language) or next(iter(inline.values()))
        return Template(chosen).render(values)

    def response(self, key: str, state: ThreadState, values: dict[str, Any]) -> str:
        return self.text(TextRef(key=key), state, values)

    # ------------------------------------------------------------------ matching

    def _compile_keywords(self) -> list[tuple[str, str, re.Pattern[str] | str]]:
        compiled: list[tuple[str, str, re.Pattern[str] | str]] = []
        for flow in self.bot.flows.values():
            for language, words in flow.trigger.keywords.items():
                for word in words:
                    folded = fold(word)
                    if re.search(r"[\u3000-\u9fff\uac00-\ud7af]", folded):
                        compiled.append((flow.name, language, folded))
                    else:
                        compiled.append((flow.name, language, re.compile(rf"(?<!\w){re.escape(folded)}(?!\w)")))
        return compiled

    def _choice_titles(self, flow: Flow) -> dict[int, dict[str, Any]]:
        """For each ask with choices: every language's title, folded, mapped to the value."""
        titles: dict[int, dict[str, Any]] = {}
        for pc, op in enumerate(flow.ops):
            if isinstance(op, AskOp) and op.choices:
                mapping: dict[str, Any] = {}
                for choice in op.choices:
                    texts = (self.bot.responses.get(choice.title.key, {}).values() if choice.title.key
                             else [(text,) for _lang, text in choice.title.inline])
                    for variants in texts:
                        for text in variants:
                            mapping.setdefault(fold(text), choice.value)
                titles[pc] = mapping
        return titles

    def find_trigger(self, text: str, nlu: NLUResult | None, language: str) -> _Match | None:
        flows = self.bot.flows.values()
        payload = parse_payload(text)
        if payload is not None:
            name = payload[0]
            for flow in flows:
                if name in flow.trigger.payloads or text.strip() in flow.trigger.payloads:
                    return _Match(flow.name, "payload")
            intent = name[1:]
            for flow in flows:
                if intent in flow.trigger.intents:
                    return _Match(flow.name, "payload")
            return None
        for flow in flows:
            if any(pattern.search(text) for pattern in flow.trigger.regex):
                return _Match(flow.name, "regex")
        folded = fold(text)
        for flow_name, keyword_language, keyword in self._keywords:
            if keyword_language not in ("*", language):
                continue
            if (keyword in folded) if isinstance(keyword, str) else keyword.search(folded):
                return _Match(flow_name, "keyword")
        if nlu is not None and nlu.intent is not None and nlu.confidence >= self.bot.nlu_threshold:
            for flow in flows:
                if nlu.intent in flow.trigger.intents:
                    return _Match(flow.name, "intent")
        return None

    def is_cancel(self, text: str, nlu: NLUResult | None, language: str) -> bool:
        cancel = self.bot.cancel
        if nlu is not None and nlu.intent in cancel.intents and nlu.confidence >= self.bot.nlu_threshold:
            return True
        folded = fold(re.sub(r"[!.?¡¿。！？…]+", " ", text))
        return any(folded == fold(word) for lang, words in cancel.keywords.items()
                   if lang in ("*", language) for word in words)


class _Run:
    """One turn in progress: mutates the turn's own copy of the state."""

    def __init__(self, engine: Engine, turn: Turn, channel: str, now: float) -> None:
        self.engine = engine
        self.bot = engine.bot
        self.turn = turn
        self.state = turn.state
        self.channel = channel
        self.now = now

    # ------------------------------------------------------------------ log and output

    def log(self, kind: str, **data: Any) -> None:
        self.turn.events.append(ThreadEvent(kind, data, self.now, self.channel))

    def emit(self, message: Outbound) -> None:
        self.turn.outbound.append(message)
        if self.state.stack and self.turn.message_tag is None:
            flow = self.bot.flows.get(self.state.stack[-1].flow)
            self.turn.message_tag = flow.message_tag if flow else None

    def request_action(self, request: ActionRequest) -> bool:
        """Pause for an action; False (and the turn stopped with an apology) past the per-turn limit."""
        if self.turn.actions_run >= MAX_ACTIONS_PER_TURN:
            self.log("error", flow=request.flow, error=f"more than {MAX_ACTIONS_PER_TURN} actions in one turn (a "
                                                       f"loop of actions, follow-ups or gotos?); {request.name} "
                                                       "was not run and the flow was stopped")
            for frame in reversed(self.state.stack):
                self.log("flow", flow=frame.flow, status="failed", reason="too_many_actions")
            self.state.stack.clear()
            self.state.message_tag = None
            self.emit(Text(self._apology()))
            return False
        self.turn.action = request
        return True

    def values(self) -> dict[str, Any]:
        return context_values(self.bot, self.state, channel=self.channel, event=self.turn.event_data,
                              public_url=self.engine.public_url)

    def functions(self) -> dict[str, Callable[..., Any]]:
        return context_functions(self.state, self.now)

    def condition(self, expression: Expression, flow: str) -> bool:
        try:
            return bool(expression.evaluate(self.values(), self.functions()))
        except ExpressionError as exc:
            self.log("error", flow=flow, error=str(exc))
            return False

    def text(self, ref: TextRef) -> str:
        return self.engine.text(ref, self.state, self.values())

    def render(self, template: Template) -> str:
        return template.render(self.values())

    def buttons(self, defs: tuple[ButtonDef, ...]) -> tuple[Button, ...]:
        return tuple(Button(self.text(b.title), b.kind, self.render(b.value)) for b in defs)

    def quick_replies(self, defs: tuple[QuickReplyDef, ...]) -> tuple[QuickReply, ...]:
        return tuple(QuickReply(self.text(q.title), self.render(q.payload)) for q in defs)

    def set_slot(self, name: str, value: Any, source: str) -> None:
        if self.state.slots.get(name) != value or name not in self.state.slots:
            self.state.slots[name] = value
            self.log("slot", name=name, value=value, source=source)

    # ------------------------------------------------------------------ inbound

    def _note_inbound(self, at: float) -> None:
        self.state.turn += 1
        self.state.channel = self.channel
        self.state.last_inbound_at = self.now
        # when the person acted (Messenger's window counts from it), not when we got round to it
        self.state.last_inbound_by_channel[self.channel] = min(at, self.now) if at else self.now

    def on_message(self, inbound: Inbound, nlu: NLUResult | None) -> None:
        text = inbound.text.strip()
        self._note_inbound(inbound.timestamp)
        self.log("user", text=text, parse_data=nlu.as_parse_data() if nlu else None,
                 message_id=inbound.message_id, metadata=inbound.metadata)
        if any(r["kill_on_user_message"] for r in self.state.reminders):
            for reminder in self.state.reminders:
                if reminder["kill_on_user_message"]:
                    self.log("reminder", status="cancelled", name=reminder["name"], reason="user_message")
            self.state.set_reminders([r for r in self.state.reminders if not r["kill_on_user_message"]])
        if nlu is not None and nlu.language in self.bot.languages and nlu.language != self.state.language \
                and (self.state.language is None or nlu.language_confidence > 0):
            # A new thread takes the NLU's best answer (which already weighed the channel's locale);
            # an existing one moves only on evidence from the text itself.
            self.log("language", previous=self.state.language, language=nlu.language,
                     confidence=nlu.language_confidence)
            self.state.language = nlu.language
        if self.state.language is None:
            self._language_from_hint(inbound)
        if self.state.handoff or inbound.metadata.get("observe_only"):
            return  # a person (or another app) has this conversation: record, do not answer
        payload = parse_payload(text)
        entities = {e.entity: e.value for e in (nlu.entities if nlu else ())}
        if payload is not None:
            entities.update(payload[1])
        for name, value in entities.items():
            slot = self.bot.slots.get(name)
            if slot is not None:
                answer = coerce(value, slot)
                if answer.ok:
                    self.set_slot(name, answer.value, "entity")
        language = self.state.language
        if self.engine.is_cancel(text, nlu, language):
            self._cancel()
            return
        match = self.engine.find_trigger(text, nlu, language)
        top = self.state.stack[-1] if self.state.stack else None
        if top is not None and top.waiting:
            self.turn.prefill = None if payload is not None else text
            self._answer(top, text, nlu, match)
            return
        self.state.stack.clear()
        if match is None:
            self._fallback()
            return
        self.state.fallback_streak = 0
        self._start(match.flow, prefill=None if payload is not None else text)

    def on_event(self, inbound: Inbound) -> None:
        name, data = inbound.event, dict(inbound.data)
        if name in RECEIPT_EVENTS:
            self.log("receipt", name=name, data=data)  # delivery/read: no interaction, nothing to answer
            return
        if name == AGENT_MESSAGE:
            self._agent_message(data)
            return
        if name == HANDOVER:
            self._handover(data)
            return
        if name == "optin":
            self._optin(data)
        self.state.last_inbound_by_channel[self.channel] = inbound.timestamp or self.now
        self.state.channel = self.channel  # where the customer was last active
        self.state.site_events.append({"name": name, "data": data, "ts": self.now, "channel": self.channel})
        del self.state.site_events[:-MAX_SITE_EVENTS]
        self.log("site_event", name=name, data=data, metadata=inbound.metadata)
        if self.state.language is None:
            self._language_from_hint(inbound)
        if self.state.handoff or inbound.metadata.get("observe_only"):
            return  # a person or another app has this conversation: context is kept, nothing is answered
        self.turn.event_data = data
        flow = self._event_flow(name, data)
        if flow is None:
            return
        top = self.state.stack[-1] if self.state.stack else None
        if top is not None and top.waiting:
            if not self.bot.flows[top.flow].interruptible:
                return
            self.log("flow", flow=top.flow, status="interrupted", by=flow)
            self.state.stack.append(Frame(flow))
            self.log("flow", flow=flow, status="started", trigger="event")
            self.run()
            return
        self.state.stack.clear()
        self._start(flow, prefill=None)

    def _agent_message(self, data: dict[str, Any]) -> None:
        """A person answered (e.g. from the Facebook Page inbox): record it and let the person have the chat."""
        self.log("agent", text=data.get("text", ""), by=data.get("by", ""), data=data)
        if not self.state.handoff:
            for frame in reversed(self.state.stack):
                self.log("flow", flow=frame.flow, status="ended", reason="agent")
            self.state.stack.clear()
            self.state.handoff = True
            self.log("handoff", active=True, reason="agent_message")

    def _optin(self, data: dict[str, Any]) -> None:
        """Messenger notification opt-ins: keep the token, and honour "stop notifications"."""
        token = data.get("notification_messages_token") or data.get("one_time_notif_token")
        if token:
            self.state.notification_token = {k: data.get(k) for k in (
                "notification_messages_token", "one_time_notif_token", "token_expiry_timestamp",
                "notification_messages_frequency", "type") if data.get(k) is not None}
        status = str(data.get("notification_messages_status") or "").upper()
        if status in ("STOP NOTIFICATIONS", "RESUME NOTIFICATIONS"):
            opted_out = status.startswith("STOP")
            if self.state.opted_out != opted_out:
                self.state.opted_out = opted_out
                self.log("opt_out", opted_out=opted_out, source="messenger_notifications")

    def _handover(self, data: dict[str, Any]) -> None:
        """Messenger's handover protocol: another app took the thread, or passed it (back) to us."""
        self.log("handover", **data)
        if data.get("action") not in ("taken", "passed"):
            return  # a request for control changes nothing until control is actually passed
        taken = data.get("action") == "taken"
        if taken != self.state.handoff:
            self.state.stack.clear()
            self.state.handoff = taken
            self.log("handoff", active=taken, reason="handover")

    def _language_from_hint(self, inbound: Inbound) -> None:
        hint = short_locale(inbound.language_hint)
        self.state.language = hint if hint in self.bot.languages else self.bot.default_language

    def _event_flow(self, name: str, data: dict[str, Any]) -> str | None:
        for flow in self.bot.flows.values():
            if name == "referral" and data.get("ref") in flow.trigger.refs:
                return flow.name
            for trigger in flow.trigger.events:
                if trigger.name == name and (trigger.when is None or self.condition(trigger.when, flow.name)):
                    return flow.name
        return None

    def on_action_outcome(self, outcome: ActionOutcome) -> None:
        request = self.turn.action
        assert request is not None
        self.turn.action = None
        self.turn.actions_run += 1
        self.log("action", name=request.name, ok=outcome.ok, error=outcome.error,
                 **({"ignored": list(outcome.ignored)} if outcome.ignored else {}))
        source = f"action:{request.name}"
        followup: str | None = None
        stopped = False  # pausing, restarting or rewinding ends what the flow was doing
        for effect in outcome.effects:
            if isinstance(effect, fx.SetSlot):
                self._action_slot(request, effect.name, effect.value)
            elif isinstance(effect, fx.ResetSlots):
                self._reset_slots(source)
            elif isinstance(effect, fx.Say):
                self.emit(effect.message)
            elif isinstance(effect, fx.SayResponse):
                self._say_response(request, effect)
            elif isinstance(effect, fx.Followup):
                followup = effect.name
            elif isinstance(effect, fx.Pause):
                self._pause(source)
                stopped = True
            elif isinstance(effect, fx.Resume):
                if self.state.handoff:
                    self.state.handoff = False
                    self.log("handoff", active=False, by=source)
            elif isinstance(effect, fx.Restart):
                self._restart(source)
                stopped = True
            elif isinstance(effect, fx.Rewind):
                stopped = self._rewind(request) or stopped
            elif isinstance(effect, fx.ScheduleReminder):
                self._schedule_reminder(effect, source)
            elif isinstance(effect, fx.CancelReminder):
                self._cancel_reminders(effect, source)
        if stopped:
            if followup is None:
                return
            if followup in self.bot.flows and not self.state.handoff:
                self._start(followup, prefill=None)
            elif followup in self.bot.responses or (followup.startswith("utter_")
                                                     and followup[6:] in self.bot.responses):
                self._say_response(request, fx.SayResponse(followup))
            elif followup != "action_listen":
                self.log("error", flow=request.flow, error=f"action {request.name} asked to follow up with "
                                                           f"{followup!r} after pausing, restarting or reverting; "
                                                           "only a flow or a text can follow then")
            return
        if request.validate_slot is not None:
            self._validated(request, outcome, followup)
            return
        if not self.state.stack or self.state.stack[-1].flow != request.flow:
            return  # nothing to go on with (cannot happen unless the stack was cleared above)
        frame = self.state.stack[-1]
        if not outcome.ok:
            if request.error_pc is not None:
                frame.pc = request.error_pc
                self.run()
                return
            self._fail_flow()
            return
        if request.advance:
            frame.pc += 1
        if followup is not None and self._followup(request, frame, followup):
            return  # another action must run first
        self.run()

    def _fail_flow(self) -> None:
        """An action failed with no error path: apologise, end the flow, and go back to the one below."""
        self.emit(Text(self._apology()))
        self._finish_flow(status="failed")
        if not (self.state.stack and self.state.stack[-1].waiting):
            self.run()

    def _action_slot(self, request: ActionRequest, name: str, value: Any) -> None:
        if name == "requested_slot" and name not in self.bot.slots:
            return  # the flow decides what it asks next; form actions set this for Rasa's form loop
        if name == "language" and name not in self.bot.slots:  # the thread's language, as the tracker shows it
            if value in self.bot.languages:
                if value != self.state.language:
                    self.log("language", previous=self.state.language, language=value, source=f"action:{request.name}")
                    self.state.language = value
            else:
                self.log("error", flow=request.flow, error=f"action {request.name} set the language to {value!r}, "
                                                           "which the bot does not speak")
            return
        slot = self.bot.slots.get(name)
        answer = coerce(value, slot) if slot is not None and value is not None else Answer(True, value)
        if answer.ok:
            self.set_slot(name, answer.value, f"action:{request.name}")
        else:
            self.log("error", flow=request.flow, error=f"action {request.name} set {name} to an invalid value "
                                                       f"{value!r}")

    def _reset_slots(self, source: str) -> None:
        for name in list(self.state.slots):
            if name not in self.bot.slots:
                del self.state.slots[name]
                self.log("slot", name=name, value=None, source=source)
        for name, slot in self.bot.slots.items():
            self.set_slot(name, slot.initial, source)

    def _say_response(self, request: ActionRequest, effect: fx.SayResponse) -> None:
        key = effect.key
        if key not in self.bot.responses and key.startswith("utter_") and key[6:] in self.bot.responses:
            key = key[6:]  # Rasa's naming convention for the same text
        if key not in self.bot.responses:
            self.log("error", flow=request.flow, error=f"action {request.name} used unknown response {effect.key!r}")
            return
        values = {**self.values(), **effect.values}
        self.emit(Text(self.engine.response(key, self.state, values), tuple(effect.buttons),
                       tuple(effect.quick_replies)))

    def _followup(self, request: ActionRequest, frame: Frame, name: str) -> bool:
        """Apply ``FollowupAction``; True when the engine now waits for another action."""
        if name in self.bot.flows:
            self.log("flow", flow=frame.flow, status="ended", followup=name)
            self.state.stack[-1] = Frame(name)
            self.state.message_tag = self.bot.flows[name].message_tag
            self.log("flow", flow=name, status="started", trigger="followup")
        elif name in self.bot.actions:
            # False after the limit: the turn was stopped, nothing more must run
            return self.request_action(ActionRequest(name, frame.flow, None, advance=False)) or True
        elif name in self.bot.responses or (name.startswith("utter_") and name[6:] in self.bot.responses):
            self._say_response(request, fx.SayResponse(name))
        elif name != "action_listen":
            self.log("error", flow=frame.flow, error=f"action {request.name} asked to follow up with {name!r}, "
                                                     "which is neither a flow, an action nor a text")
        return False

    def _pause(self, source: str) -> None:
        for frame in reversed(self.state.stack):
            self.log("flow", flow=frame.flow, status="ended", reason="paused")
        self.state.stack.clear()
        self.state.message_tag = None
        if not self.state.handoff:
            self.state.handoff = True
            self.log("handoff", active=True, reason=source)

    def _restart(self, source: str) -> None:
        for frame in reversed(self.state.stack):
            self.log("flow", flow=frame.flow, status="cancelled", reason="restart")
        self.state.stack.clear()
        self._reset_slots(source)
        if self.state.handoff:
            self.state.handoff = False
            self.log("handoff", active=False, by=source)
        self.state.fallback_streak = 0
        self.state.message_tag = None
        self.state.site_events.clear()
        for reminder in self.state.reminders:
            self.log("reminder", status="cancelled", name=reminder["name"], reason="restart")
        self.state.set_reminders([])
        self.log("restart", by=source)

    def _rewind(self, request: ActionRequest) -> bool:
        """Back to the state before the customer's message; False when the turn had no message."""
        before = self.turn.before
        if before is None or not self.turn.events or self.turn.events[0].kind != "user":
            self.log("error", flow=request.flow, error=f"action {request.name} reverted a user message, "
                                                       "but this turn did not start with one")
            return False
        for name, value in before.slots.items():
            self.set_slot(name, value, "rewind")
        for name in [n for n in self.state.slots if n not in before.slots]:
            del self.state.slots[name]
        self.state.stack = [Frame(f.flow, f.pc, f.waiting, f.attempts) for f in before.stack]
        self.state.fallback_streak = before.fallback_streak
        self.state.message_tag = before.message_tag
        self.log("rewind", by=f"action:{request.name}")
        return True

    def _schedule_reminder(self, effect: fx.ScheduleReminder, source: str) -> None:
        if effect.due <= self.now:  # as Rasa's scheduler does with a time already past: not run
            self.log("reminder", status="dropped", name=effect.name, intent=effect.intent, due=effect.due, by=source,
                     reason="its time has already passed")
            return
        reminder = {"name": effect.name, "intent": effect.intent, "entities": dict(effect.entities),
                    "due": effect.due, "kill_on_user_message": effect.kill_on_user_message, "scheduled_at": self.now}
        kept = [r for r in self.state.reminders if r["name"] != effect.name]  # the same name replaces
        self.state.set_reminders(kept + [reminder])
        self.log("reminder", status="scheduled", by=source, **{k: v for k, v in reminder.items() if k != "scheduled_at"})

    def _cancel_reminders(self, effect: fx.CancelReminder, source: str) -> None:
        def matches(reminder: dict[str, Any]) -> bool:
            return ((effect.name is None or reminder["name"] == effect.name)
                    and (effect.intent is None or reminder["intent"] == effect.intent)
                    and (not effect.entities or all(reminder["entities"].get(k) == v
                                                    for k, v in effect.entities.items())))
        cancelled = [r for r in self.state.reminders if matches(r)]
        for reminder in cancelled:
            self.log("reminder", status="cancelled", name=reminder["name"], by=source)
        self.state.set_reminders([r for r in self.state.reminders if not matches(r)])

    def on_reminder(self, reminder: dict[str, Any]) -> None:
        """A reminder is due: like the customer expressing its intent, on the channel they were last on."""
        self.state.set_reminders([r for r in self.state.reminders if r["name"] != reminder["name"]])
        self.turn.reminder = reminder
        self.log("reminder", status="fired", name=reminder["name"], intent=reminder["intent"],
                 entities=reminder.get("entities") or {})
        if self.state.handoff or self.state.opted_out:
            self.log("reminder", status="skipped", name=reminder["name"],
                     reason="handoff" if self.state.handoff else "opted_out")
            return
        entities = dict(reminder.get("entities") or {})
        for name, value in entities.items():
            slot = self.bot.slots.get(name)
            if slot is not None and (answer := coerce(value, slot)).ok:
                self.set_slot(name, answer.value, f"reminder:{reminder['name']}")
        language = self.state.language or self.bot.default_language
        match = self.engine.find_trigger(f"/{reminder['intent']}", None, language)
        if match is None:
            self.log("error", flow=None, error=f"reminder {reminder['name']!r}: no flow is triggered by intent "
                                               f"{reminder['intent']!r}")
            return
        self.turn.event_data = entities
        if any(frame.flow not in self.bot.flows for frame in self.state.stack):
            self.state.stack.clear()  # a flow the bot no longer has (changed since): nothing to go back to
        top = self.state.stack[-1] if self.state.stack else None
        if top is not None and top.waiting:
            if not self.bot.flows[top.flow].interruptible:
                self.log("reminder", status="skipped", name=reminder["name"], reason=f"{top.flow} is not interruptible")
                return
            self.log("flow", flow=top.flow, status="interrupted", by=match.flow)
            self.state.stack.append(Frame(match.flow))
            self.state.message_tag = self.bot.flows[match.flow].message_tag or self.state.message_tag
            self.log("flow", flow=match.flow, status="started", trigger="reminder")
            self.run()
            return
        self.state.stack.clear()
        self._start(match.flow, prefill=None)

    def on_followup(self, campaign: str, flow: str | None, texts: dict[str, str]) -> None:
        self.state.followups[campaign] = self.now
        self.log("followup", campaign=campaign, flow=flow, channel=self.channel)
        if flow is None:
            language = self.state.language or self.bot.default_language
            text = texts.get(language) or texts.get(self.bot.default_language) or next(iter(texts.values()), "")
            self.emit(Text(Template(text).render(self.values())))
            return
        if any(frame.flow not in self.bot.flows for frame in self.state.stack):
            self.state.stack.clear()
        top = self.state.stack[-1] if self.state.stack else None
        if top is not None and top.waiting and self.bot.flows[top.flow].interruptible:
            self.log("flow", flow=top.flow, status="interrupted", by=flow)
            self.state.stack.append(Frame(flow))
            self.state.message_tag = self.bot.flows[flow].message_tag or self.state.message_tag
            self.log("flow", flow=flow, status="started", trigger="followup")
            self.run()
            return
        for frame in reversed(self.state.stack):
            self.log("flow", flow=frame.flow, status="ended", reason="followup")
        self.state.stack.clear()
        self._start(flow, prefill=None)

    # ------------------------------------------------------------------ flow control

    def _apology(self) -> str:
        ref = self.bot.action_error_response
        language = self.state.language or self.bot.default_language
        return self.text(ref) if ref else _ACTION_FAILED.get(language, _ACTION_FAILED["en"])

    def _start(self, flow: str, prefill: str | None) -> None:
        self.state.stack.append(Frame(flow))
        self.state.message_tag = self.bot.flows[flow].message_tag
        self.turn.prefill = prefill
        self.log("flow", flow=flow, status="started")
        self.run()

    def _fallback(self) -> None:
        self.state.fallback_streak += 1
        if self.bot.fallback_flow is not None:
            self._start(self.bot.fallback_flow, prefill=None)

    def _cancel(self) -> None:
        for frame in reversed(self.state.stack):
            self.log("flow", flow=frame.flow, status="cancelled")
        self.state.stack.clear()
        self.state.message_tag = None
        if self.bot.cancel.response is not None:
            self.emit(Text(self.text(self.bot.cancel.response)))

    def _answer(self, frame: Frame, text: str, nlu: NLUResult | None, match: _Match | None) -> None:
        flow = self.bot.flows[frame.flow]
        op = flow.ops[frame.pc]
        assert isinstance(op, AskOp)
        titles = self.engine._titles[flow.name].get(frame.pc, {})
        answer = read_answer(text, op.validator, titles=titles, intent=nlu.intent if nlu else None)
        if op.choices and not op.allow_other and answer.ok and op.validator.type != "choice":
            allowed = {fold(str(c.value)) for c in op.choices}
            if fold(str(answer.value)) not in allowed and fold(text) not in titles:
                answer = Answer(False)
        free_text = op.validator.type in ("text", "any")
        explicit = match is not None and match.kind == "payload"
        if answer.ok and not explicit and not (free_text and match is not None):
            self._fill(frame, op, answer.value)
            return
        if match is not None and match.flow != frame.flow and flow.interruptible:
            self.state.fallback_streak = 0
            self.log("flow", flow=frame.flow, status="interrupted", by=match.flow)
            self.state.stack.append(Frame(match.flow))
            self.log("flow", flow=match.flow, status="started")
            self.run()
            return
        if answer.ok:
            self._fill(frame, op, answer.value)
            return
        self._reject(frame, op, explained=False, text=text)

    def _reject(self, frame: Frame, op: AskOp, *, explained: bool, **why: Any) -> None:
        """An answer that will not do: ask again, or after ``max_attempts`` take the ask's failure path."""
        frame.attempts += 1
        self.log("slot_rejected", name=op.slot, **why, attempt=frame.attempts)
        if frame.attempts >= op.max_attempts:
            frame.waiting = False
            frame.attempts = 0
            frame.pc = op.failure_pc
            self.log("flow", flow=frame.flow, status="ask_failed", slot=op.slot)
            self.run()
            return
        if op.invalid is not None and not explained:
            self.emit(Text(self.text(op.invalid)))
        self._prompt(op)

    def _fill(self, frame: Frame, op: AskOp, value: Any) -> None:
        self.turn.prefill = None  # this message answered this question; it must not answer the next one
        self.set_slot(op.slot, value, "answer")
        if self._validate(frame, op):
            return
        frame.waiting = False
        frame.attempts = 0
        frame.pc += 1
        self.run()

    def _validate(self, frame: Frame, op: AskOp) -> bool:
        """A flow with a ``validate_<flow>`` action (rasa-sdk's FormValidationAction) has it check each answer."""
        name = f"validate_{frame.flow}"
        if name not in self.bot.actions:
            return False
        frame.waiting = True
        self.request_action(ActionRequest(name, frame.flow, None, advance=False, validate_slot=op.slot))
        return True

    def _validated(self, request: ActionRequest, outcome: ActionOutcome, followup: str | None) -> None:
        """The validation action answered: go on, or ask again when it emptied the slot."""
        frame = self.state.stack[-1] if self.state.stack else None
        if frame is None or frame.flow != request.flow:
            return
        op = self.bot.flows[frame.flow].ops[frame.pc]
        assert isinstance(op, AskOp)
        if not outcome.ok:
            self.set_slot(op.slot, None, f"action:{request.name}")
            self._fail_flow()
            return
        if self.state.slots.get(op.slot) is not None:
            frame.waiting = False
            frame.attempts = 0
            frame.pc += 1
            if followup is not None and self._followup(request, frame, followup):
                return
            self.run()
            return
        if followup is not None:
            self.log("error", flow=frame.flow, error=f"action {request.name} rejected {op.slot} and asked to follow "
                                                     f"up with {followup!r}; the question is asked again instead")
        # the validator's own words explain the refusal; without them, the flow's ``invalid`` text does
        self._reject(frame, op, explained=any(isinstance(e, (fx.Say, fx.SayResponse)) for e in outcome.effects),
                     by=request.name)

    def _prompt(self, op: AskOp) -> None:
        choices: tuple[QuickReply, ...] = tuple(
            QuickReply(self.text(c.title), format_value(c.value)) for c in op.choices)
        if op.style == "buttons" and choices:
            self.emit(Text(self.text(op.prompt), buttons=tuple(Button(c.title, "postback", c.payload)
                                                                for c in choices)))
        else:
            self.emit(Text(self.text(op.prompt), quick_replies=choices))

    def _finish_flow(self, status: str = "ended") -> None:
        frame = self.state.stack.pop()
        self.log("flow", flow=frame.flow, status=status)
        if not self.state.stack:
            self.state.message_tag = None  # a flow's Messenger tag covers that flow only
        if self.state.stack and not self.bot.flows[frame.flow].resume_interrupted:
            for dropped in reversed(self.state.stack):
                self.log("flow", flow=dropped.flow, status="cancelled", by=frame.flow)
            self.state.stack.clear()
            return
        if self.state.stack and self.state.stack[-1].waiting:
            below = self.state.stack[-1]
            op = self.bot.flows[below.flow].ops[below.pc]
            assert isinstance(op, AskOp)
            self.log("flow", flow=below.flow, status="resumed")
            if self.state.slots.get(op.slot) is not None and not op.always:
                below.waiting = False  # the interruption answered the question (e.g. size help chose the size)
                below.attempts = 0
                below.pc += 1
                return
            self._prompt(op)

    def run(self) -> None:  # noqa: C901 - one branch per operation
        """Execute operations until the flow stack waits for the customer, needs an action, or is empty."""
        executed = 0
        while self.state.stack:
            frame = self.state.stack[-1]
            if frame.waiting:
                return
            flow = self.bot.flows[frame.flow]
            if frame.pc >= len(flow.ops):
                self._finish_flow()
                continue
            executed += 1
            if executed > MAX_OPS_PER_TURN:
                # A loop its conditions never end: drop what it produced and apologise once.
                self.log("error", flow=frame.flow, error=f"more than {MAX_OPS_PER_TURN} steps in one turn "
                                                         "(a goto loop?); the flow was stopped")
                self.state.stack.clear()
                self.turn.outbound.clear()
                self.emit(Text(self._apology()))
                return
            op = flow.ops[frame.pc]
            if isinstance(op, SayOp):
                self.emit(Text(self.text(op.text), self.buttons(op.buttons), self.quick_replies(op.quick_replies)))
            elif isinstance(op, MediaOp):
                self.emit(Media(op.media, self.render(op.url), self.text(op.caption) if op.caption else "",
                                self.buttons(op.buttons), self.quick_replies(op.quick_replies)))
            elif isinstance(op, CarouselOp):
                cards = tuple(Card(self.text(c.title), self.text(c.subtitle) if c.subtitle else "",
                                   self.render(c.image) if c.image else "", self.buttons(c.buttons))
                              for c in op.cards)
                self.emit(Carousel(cards, self.quick_replies(op.quick_replies)))
            elif isinstance(op, TypingOp):
                self.emit(Typing(op.seconds))
            elif isinstance(op, AskOp):
                if self._ask(frame, op):
                    return
                continue
            elif isinstance(op, SetOp):
                self._set(op, frame.flow)
            elif isinstance(op, BranchOp):
                frame.pc = frame.pc + 1 if self.condition(op.condition, frame.flow) else op.target
                continue
            elif isinstance(op, JumpOp):
                frame.pc = op.target
                continue
            elif isinstance(op, GotoFlowOp):
                target = self.bot.flows[op.flow]
                self.log("flow", flow=frame.flow, status="ended", goto=op.flow)
                self.state.stack[-1] = Frame(op.flow, target.labels[op.label] if op.label else 0)
                self.log("flow", flow=op.flow, status="started", trigger="goto")
                continue
            elif isinstance(op, ActionOp):
                self.request_action(ActionRequest(op.name, frame.flow, op.error_pc))
                return
            elif isinstance(op, HandoffOp):
                if op.text is not None:
                    self.emit(Text(self.text(op.text)))
                for waiting in reversed(self.state.stack):
                    self.log("flow", flow=waiting.flow, status="ended", reason="handoff")
                self.state.stack.clear()
                self.state.message_tag = None
                self.state.handoff = True
                self.log("handoff", active=True, flow=frame.flow)
                return
            elif isinstance(op, EndOp):
                self._finish_flow()
                continue
            elif isinstance(op, OptOutOp):
                if self.state.opted_out != op.value:
                    self.state.opted_out = op.value
                    self.log("opt_out", opted_out=op.value, flow=frame.flow)
            frame.pc += 1

    def _ask(self, frame: Frame, op: AskOp) -> bool:
        """Run an ask step; True when it now waits for the customer."""
        current = self.state.slots.get(op.slot)
        if current is not None and not op.always:
            frame.pc += 1
            return False
        if self.turn.prefill and op.validator.type in ("regex", "email", "phone", "number"):
            answer = read_answer(self.turn.prefill, op.validator)
            if answer.ok:
                self.turn.prefill = None  # one value per message
                self.set_slot(op.slot, answer.value, "message")
                if self._validate(frame, op):
                    return True
                frame.pc += 1
                return False
        self.turn.prefill = None
        frame.waiting = True
        frame.attempts = 0
        self._prompt(op)
        return True

    def _set(self, op: SetOp, flow: str) -> None:
        for name, value in op.assignments:
            if isinstance(value, Expression):
                try:
                    value = value.evaluate(self.values(), self.functions())
                except ExpressionError as exc:
                    self.log("error", flow=flow, error=str(exc))
                    continue
            elif isinstance(value, Template):
                value = value.render(self.values())
            slot: SlotDef | None = self.bot.slots.get(name)
            answer = coerce(value, slot) if slot is not None else Answer(True, value)
            if answer.ok:
                self.set_slot(name, answer.value, "set")
            else:
                self.log("error", flow=flow, error=f"set {name}: {value!r} is not a valid {slot.type if slot else ''}")
