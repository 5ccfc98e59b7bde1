"""Rasa's sessions: ``action_session_start`` when a conversation starts and after a quiet spell.

A thread's first message, and the first after ``session_config.session_expiration_time``
minutes of quiet (0, the default: never), start a session. When the bot has an action
called ``action_session_start`` it runs first, before the message is handled, as Rasa
runs it; its ``SessionStarted`` starts the slots over, and the ``SlotSet`` events after
it carry over what it chooses. An expired session's running flows end first. Without one, an expired
session ends the running flows and keeps the slots unless
``carry_over_slots_to_new_session`` is false (Rasa's default ``action_session_start``).
A thread's very first session has nothing to end: without the action, nothing happens.
"""

from __future__ import annotations

from bots.flow.run import Run
from bots.flow.turn import ActionRequest

SESSION_START = "action_session_start"


def session_due(run: Run, now: float) -> tuple[bool, bool]:
    """Whether a message now starts a session, and whether it is the thread's first."""
    last = run.state.last_inbound_at
    if not last:
        return True, True
    minutes = run.bot.session.expiration_minutes
    return minutes > 0 and now - last > minutes * 60, False


def end_flows(run: Run) -> None:
    """The running flows of a session that expired end with it (Rasa's ``SessionStarted`` ends the active loop)."""
    for frame in reversed(run.state.stack):
        run.log("flow", flow=frame.flow, status="cancelled", reason="session_expired")
    run.state.stack.clear()
    run.state.message_tag = None


def start_session_afresh(run: Run, source: str, *, carry_over: bool) -> None:
    """A new session (an action's ``SessionStarted``): the slots start over unless they carry over."""
    if not carry_over:
        reset_slots(run, source, reset="session")
    run.log("session", status="started", by=source)


def reset_slots(run: Run, source: str, reset: str | None = None) -> None:
    """Every slot back to its initial value, slots an action made up gone.

    ``reset`` marks the slot events as part of a restart or a new session: Rasa's
    ``Restarted`` and ``SessionStarted`` reset the tracker without ``SlotSet`` events, so
    an action's tracker leaves these out (an ``AllSlotsReset``'s stay, unmarked).
    """
    marks = {"reset": reset} if reset else {}
    for name in list(run.state.slots):
        if name not in run.bot.slots:
            del run.state.slots[name]
            run.log("slot", name=name, value=None, source=source, **marks)
    for name, slot in run.bot.slots.items():
        if run.state.slots.get(name) != slot.initial or name not in run.state.slots:
            run.state.slots[name] = slot.initial
            run.log("slot", name=name, value=slot.initial, source=source, **marks)


def begin_session(run: Run, first: bool) -> bool:
    """Start a session; True when the bot's own ``action_session_start`` must run before the message."""
    if not first:
        end_flows(run)
    if SESSION_START in run.bot.actions:
        return run.request_action(ActionRequest(SESSION_START, "", advance=False))
    if not first:
        start_session_afresh(run, "session_expired", carry_over=run.bot.session.carry_over_slots)
    return False
