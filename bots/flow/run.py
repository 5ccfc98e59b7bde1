"""One turn in progress, and the few things every step of it does: log, speak, read the context, set a slot.

The steps themselves are functions over a :class:`Run` in their own modules
(:mod:`~bots.flow.interpreter`, :mod:`~bots.flow.inbound`, ...): a run is the
turn's own copy of the state plus what the engine worked out from the bot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bots.flow.context import context_functions, context_values
from bots.flow.expressions import Expression, ExpressionError, Template
from bots.flow.loops import loop_reason, trim_loop
from bots.flow.model import Bot, ButtonDef, QuickReplyDef, ResponseVariant, TextRef
from bots.flow.response_variants import fill_custom, response_messages
from bots.flow.texts import action_failed, render_response, render_text
from bots.flow.turn import ActionRequest, Turn
from bots.types import Button, Outbound, QuickReply, Text, ThreadEvent

if TYPE_CHECKING:
    from bots.flow.triggers import Triggers

ChoiceTitles = dict[int, dict[str, Any]]  # an ask's step -> each choice title, folded -> the choice's value


@dataclass(frozen=True)
class Prepared:
    """What the engine works out from a bot once, not on every turn."""

    bot: Bot
    public_url: str
    triggers: Triggers
    choice_titles: dict[str, ChoiceTitles]  # per flow


class Run:
    """One turn in progress: mutates the turn's own copy of the state."""

    def __init__(self, prepared: Prepared, turn: Turn, channel: str, now: float) -> None:
        self.prepared = prepared
        self.bot = prepared.bot
        self.turn = turn
        self.state = turn.state
        self.channel = channel
        self.now = now

    def log(self, kind: str, **data: Any) -> None:
        self.turn.events.append(ThreadEvent(kind, data, self.now, self.channel))

    def emit(self, message: Outbound) -> None:
        self.turn.outbound.append(message)
        if self.state.stack and self.turn.message_tag is None:
            flow = self.bot.flows.get(self.state.stack[-1].flow)
            self.turn.message_tag = flow.message_tag if flow else None

    def request_action(self, request: ActionRequest) -> bool:
        """Pause for an action; False (and the turn stopped with an apology) when it would loop (loops.py)."""
        why = loop_reason(self.turn, request)
        if why is not None:
            self.log("error", flow=request.flow, error=f"{why}; {request.name} was not run and the flow was stopped")
            for frame in reversed(self.state.stack):
                self.log("flow", flow=frame.flow, status="failed", reason="too_many_actions")
            self.state.stack.clear()
            self.state.message_tag = None
            trim_loop(self.turn, request.name)
            self.emit(Text(self.apology()))
            return False
        self.turn.action = request
        return True

    def apology(self) -> str:
        ref = self.bot.action_error_response
        return self.text(ref) if ref else action_failed(self.state.language or self.bot.default_language)

    def values(self) -> dict[str, Any]:
        return context_values(
            self.bot, self.state, channel=self.channel, event=self.turn.event_data, public_url=self.prepared.public_url
        )

    def functions(self) -> dict[str, Callable[..., Any]]:
        return context_functions(self.state, self.now)

    def condition(self, expression: Expression, flow: str) -> bool:
        try:
            return bool(expression.evaluate(self.values(), self.functions()))
        except ExpressionError as exc:
            self.log("error", flow=flow, error=str(exc))
            return False

    def text(self, ref: TextRef) -> str:
        return render_text(self.bot, ref, self.state, self.values())

    def say(
        self,
        ref: TextRef,
        buttons: tuple[Button, ...] = (),
        quick_replies: tuple[QuickReply, ...] = (),
        *,
        values: dict[str, Any] | None = None,
        add_buttons: bool = False,
        own_buttons: bool = True,
        lead: str = "",
        overrides: dict[str, Any] | None = None,
    ) -> None:
        """Say a response with what its chosen variant shows besides words (buttons, an image, a custom payload).

        ``buttons`` given by a step replace the response's own; an action's (``add_buttons``) come after them,
        as in Rasa; a question's choices (``own_buttons=False``) stand for them. ``lead`` goes before the words
        (a resume line before a question). ``overrides`` (an action's own text, image or custom payload beside
        the response's name) replace the response's, as Rasa lays them over the filled response.
        """
        values = self.values() if values is None else values
        text, extras = render_response(self.bot, ref, self.state, values)
        overrides = overrides or {}
        text = str(overrides.get("text", text))
        if extras is None and ("image" in overrides or "custom" in overrides):
            extras = ResponseVariant()
        if lead:  # full-width punctuation (Chinese) takes no space after it
            text = f"{lead}{'' if ord(lead[-1]) >= 0x3000 else ' '}{text}" if text else lead
        if extras is None:
            self.emit(Text(text, buttons, quick_replies))
            return
        own = tuple(Button(self.text(b.title), b.kind, b.value.render(values)) for b in extras.buttons if own_buttons)
        shown = own + buttons if add_buttons else (buttons or own)
        image = str(overrides["image"]) if "image" in overrides else extras.image.render(values) if extras.image else ""
        custom = overrides.get("custom")
        if custom is None and extras.custom is not None:
            custom = fill_custom(extras.custom, lambda part: Template(part).render(values))
        for message in response_messages(text, extras, shown, quick_replies, image, custom):
            self.emit(message)

    def render(self, template: Template) -> str:
        return template.render(self.values())

    def buttons(self, defs: tuple[ButtonDef, ...]) -> tuple[Button, ...]:
        values = self.values() if defs else {}  # once for all of them: nothing changes between two buttons
        return tuple(
            Button(render_text(self.bot, b.title, self.state, values), b.kind, b.value.render(values)) for b in defs
        )

    def quick_replies(self, defs: tuple[QuickReplyDef, ...]) -> tuple[QuickReply, ...]:
        values = self.values() if defs else {}
        return tuple(
            QuickReply(render_text(self.bot, q.title, self.state, values), q.payload.render(values)) for q in defs
        )

    def set_slot(self, name: str, value: Any, source: str) -> None:
        if self.state.slots.get(name) != value or name not in self.state.slots:
            self.state.slots[name] = value
            self.log("slot", name=name, value=value, source=source)
