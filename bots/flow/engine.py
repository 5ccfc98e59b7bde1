"""The flow engine: (state, inbound, NLU result) -> (new state, replies, log events).

Pure and deterministic: no I/O, no clock, no randomness. The caller passes
the time in, and a custom action is not called from here: the engine stops
with an :class:`ActionRequest`, the pipeline runs the action (I/O), and
:meth:`Engine.resume` carries on with its outcome. That keeps every
conversation replayable in tests, and keeps the engine free of the store,
the network and the channels.

This module is the engine's face; each kind of turn is worked out in its own
module over a :class:`~bots.flow.run.Run` (one turn in progress):
:mod:`~bots.flow.inbound` (a message or event), :mod:`~bots.flow.outcomes`
(an action's outcome), :mod:`~bots.flow.proactive` (reminders, follow-ups,
hand-off release), all running flows with :mod:`~bots.flow.interpreter`.
"""

from __future__ import annotations

from typing import Any

from bots.flow import outcomes, proactive
from bots.flow.context import context_functions, context_values
from bots.flow.duckling import with_duckling
from bots.flow.expressions import Expression
from bots.flow.inbound import AGENT_MESSAGE, HANDOVER, RECEIPT_EVENTS, on_event, on_message
from bots.flow.interpreter import MAX_OPS_PER_TURN
from bots.flow.model import Bot, TextRef
from bots.flow.questions import choice_titles
from bots.flow.run import Prepared, Run
from bots.flow.sessions import begin_session, session_due
from bots.flow.state import ThreadState
from bots.flow.texts import render_text
from bots.flow.triggers import TriggerMatch, Triggers, message_payload, named_out_of_scope
from bots.flow.turn import MAX_ACTIONS_PER_TURN, ActionOutcome, ActionRequest, Turn
from bots.types import Inbound, NLUResult

# What happens around a conversation, not in it: it starts no session
QUIET_EVENTS = RECEIPT_EVENTS | {AGENT_MESSAGE, HANDOVER}

__all__ = [
    "AGENT_MESSAGE",
    "HANDOVER",
    "MAX_ACTIONS_PER_TURN",
    "MAX_OPS_PER_TURN",
    "RECEIPT_EVENTS",
    "ActionOutcome",
    "ActionRequest",
    "Engine",
    "Turn",
    "context_functions",
    "context_values",
]


class Engine:
    """A bot's flows run turn by turn: what the pipeline, reminders and follow-up campaigns call."""

    def __init__(self, bot: Bot, *, public_url: str = "") -> None:
        self.bot = bot
        self.public_url = public_url
        self._prepared = Prepared(
            bot, public_url, Triggers(bot), {flow.name: choice_titles(bot, flow) for flow in bot.flows.values()}
        )

    def _run(self, turn: Turn, channel: str, now: float) -> Run:
        return Run(self._prepared, turn, channel, now)

    def new_state(self) -> ThreadState:
        return ThreadState(slots={name: slot.initial for name, slot in self.bot.slots.items()})

    def handle(self, state: ThreadState, inbound: Inbound, nlu: NLUResult | None, now: float) -> Turn:
        """Process one inbound message or event; returns the turn, maybe paused on an action."""
        turn = Turn(state.copy(), before=state)
        run = self._run(turn, inbound.channel, now)
        if inbound.kind == "message" or inbound.event not in QUIET_EVENTS:
            due, first = session_due(run, now)
            if due and begin_session(run, first):
                turn.waiting = (inbound, nlu)  # handled once action_session_start has run (resume)
                return turn
        self._handle(run, inbound, nlu)
        return turn

    @staticmethod
    def _handle(run: Run, inbound: Inbound, nlu: NLUResult | None) -> None:
        if inbound.kind == "event":
            on_event(run, inbound)
        else:
            # with a question open, the message is checked as its answer first (questions.answer decides what
            # answers an off-topic one); otherwise a flow on out_of_scope answers it
            waiting = bool(run.state.stack) and run.state.stack[-1].waiting
            nlu = with_duckling(run.bot, nlu)
            on_message(run, inbound, nlu if waiting else named_out_of_scope(run.bot, nlu))

    def resume(self, turn: Turn, outcome: ActionOutcome, channel: str, now: float) -> Turn:
        """Continue a turn that paused on an action, with what the action produced."""
        assert turn.action is not None, "resume() needs a turn paused on an action"
        outcomes.apply_outcome(self._run(turn, channel, now), outcome)
        if turn.waiting is not None and _paused_on(turn) is None:
            inbound, nlu = turn.waiting
            turn.waiting = None
            self._handle(self._run(turn, channel, now), inbound, nlu)
        return turn

    def fire_reminder(self, state: ThreadState, now: float, due_by: float | None = None) -> Turn | None:
        """The earliest reminder due by ``due_by`` (default: now) as a turn of its own; None when none is."""
        due = [r for r in state.reminders if r["due"] <= (now if due_by is None else due_by)]
        if not due:
            return None
        turn = Turn(state.copy())
        proactive.on_reminder(self._run(turn, state.channel, now), min(due, key=lambda r: (r["due"], r["name"])))
        return turn

    def matches(self, state: ThreadState, condition: Expression, now: float) -> bool:
        """Whether a thread meets a condition (a follow-up campaign's selection); raises ExpressionError."""
        return bool(
            condition.evaluate(
                context_values(self.bot, state, channel=state.channel, public_url=self.public_url),
                context_functions(state, now),
            )
        )

    def follow_up(
        self,
        state: ThreadState,
        now: float,
        *,
        campaign: str,
        channel: str,
        flow: str | None = None,
        texts: dict[str, str] | None = None,
    ) -> Turn:
        """A proactive follow-up as a turn of its own: a flow started, or a text in the thread's language.

        A question the customer left open is interrupted (and resumed after)
        when its flow allows it, as a reminder would; the campaign is
        remembered so it reaches this thread once.
        """
        turn = Turn(state.copy())
        proactive.on_followup(self._run(turn, channel, now), campaign, flow, texts or {})
        return turn

    def release_handoff(self, state: ThreadState, now: float, by: str = "") -> Turn:
        turn = Turn(state.copy())
        proactive.release_handoff(turn, now, by)
        return turn

    def text(self, ref: TextRef, state: ThreadState, values: dict[str, Any]) -> str:
        return render_text(self.bot, ref, state, values)

    def response(self, key: str, state: ThreadState, values: dict[str, Any]) -> str:
        return self.text(TextRef(key=key), state, values)

    def find_trigger(self, text: str, nlu: NLUResult | None, language: str) -> TriggerMatch | None:
        return self._prepared.triggers.find(text, message_payload(text, nlu), nlu, language)

    def is_cancel(self, text: str, nlu: NLUResult | None, language: str, open_flow: str | None = None) -> bool:
        return self._prepared.triggers.is_cancel(text, nlu, language, open_flow)


def _paused_on(turn: Turn) -> ActionRequest | None:
    """The action the turn waits for now (applying an outcome may have asked for another)."""
    return turn.action
