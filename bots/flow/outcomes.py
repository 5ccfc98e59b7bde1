"""What a custom action's outcome does to the thread: its effects applied in order, then the flow goes on.

Effects are Rasa's events in the engine's terms (:mod:`bots.flow.effects`):
slots, texts, a follow-up, pausing, restarting or rewinding the
conversation, reminders.
"""

from __future__ import annotations

from typing import Any

from bots.flow import effects as fx
from bots.flow.answers import Answer, coerce
from bots.flow.forms import ask_requested, end_active_form, form_flow, resume_waiting
from bots.flow.interpreter import execute, fail_flow, start_flow
from bots.flow.loops import mark_first_round
from bots.flow.model import AskOp, TextRef
from bots.flow.prompts import prompt
from bots.flow.questions import reject
from bots.flow.reminder_effects import cancel_reminders, schedule_reminder
from bots.flow.run import Run
from bots.flow.sessions import reset_slots, start_session_afresh
from bots.flow.state import Frame
from bots.flow.turn import ActionOutcome, ActionRequest

_UNSET: Any = object()


def apply_outcome(run: Run, outcome: ActionOutcome) -> None:
    """Apply what the action the turn paused on produced, then carry on with the flow that asked for it."""
    request = run.turn.action
    assert request is not None
    run.turn.action = None
    run.turn.actions_run += 1
    run.log(
        "action",
        name=request.name,
        ok=outcome.ok,
        error=outcome.error,
        **({"ignored": list(outcome.ignored)} if outcome.ignored else {}),
    )
    source = f"action:{request.name}"
    followup: str | None = None
    requested: Any = _UNSET  # the requested_slot a form validation action set (None: the form is done)
    stopped = False  # pausing, restarting or rewinding ends what the flow was doing
    for effect in outcome.effects:
        if isinstance(effect, fx.SetSlot) and effect.name == "requested_slot" and effect.name not in run.bot.slots:
            requested = effect.value
        elif isinstance(effect, fx.SetSlot):
            _action_slot(run, request, effect.name, effect.value)
        elif isinstance(effect, fx.SetActiveLoop) and effect.name is None:
            if request.validate_slot is not None:
                requested = None  # the validation ends its own form
            else:
                end_active_form(run, request.name)
        elif isinstance(effect, fx.SetActiveLoop):
            followup = effect.name
        elif isinstance(effect, fx.ResetSlots):
            _reset_slots(run, source)
        elif isinstance(effect, fx.Say):
            run.emit(effect.message)
        elif isinstance(effect, fx.SayResponse):
            _say_response(run, request, effect)
        elif isinstance(effect, fx.Followup):
            followup = effect.name
        elif isinstance(effect, fx.Pause):
            _pause(run, source)
            stopped = True
        elif isinstance(effect, fx.Resume):
            if run.state.handoff:
                run.state.handoff = False
                run.log("handoff", active=False, by=source)
        elif isinstance(effect, fx.Restart):
            _restart(run, source)
            stopped = True
        elif isinstance(effect, fx.StartSession):
            start_session_afresh(run, source, carry_over=False)
        elif isinstance(effect, fx.Rewind):
            stopped = _rewind(run, request) or stopped
        elif isinstance(effect, fx.ScheduleReminder):
            schedule_reminder(run, effect, source)
        elif isinstance(effect, fx.CancelReminder):
            cancel_reminders(run, effect, source)
    mark_first_round(run.turn, request.name)
    if stopped:
        _after_stop(run, request, followup)
        return
    if request.validate_slot is not None:
        _validated(run, request, outcome, followup, requested)
        return
    if not run.state.stack or run.state.stack[-1].flow != request.flow:
        return  # nothing to go on with (cannot happen unless the stack was cleared above)
    frame = run.state.stack[-1]
    if not outcome.ok:
        if request.error_pc is not None:
            frame.pc = request.error_pc
            execute(run)
            return
        fail_flow(run)
        return
    if request.advance:
        frame.pc += 1
    if followup is not None and _follow_up(run, request, frame, followup):
        return  # another action must run first
    execute(run)


def _after_stop(run: Run, request: ActionRequest, followup: str | None) -> None:
    """After pausing, restarting or rewinding: a flow, a text, or (as in Rasa) an action, outside any flow."""
    if followup is None:
        return
    if followup in run.bot.actions and not run.state.handoff:
        run.request_action(ActionRequest(followup, "", advance=False))
        return
    flow = form_flow(run.bot, followup)
    if flow is not None and not run.state.handoff:
        if not resume_waiting(run, flow.name, request.name):
            start_flow(run, flow.name, prefill=None)
    elif followup in run.bot.responses or (followup.startswith("utter_") and followup[6:] in run.bot.responses):
        _say_response(run, request, fx.SayResponse(followup))
    elif followup != "action_listen":
        run.log(
            "error",
            flow=request.flow,
            error=f"action {request.name} asked to follow up with "
            f"{followup!r} after pausing, restarting or reverting, "
            "which is neither a flow, an action nor a text",
        )


def _validated(run: Run, request: ActionRequest, outcome: ActionOutcome, followup: str | None, requested: Any) -> None:
    """The validation action answered: go on, ask what it requested, or ask again when it emptied the slot."""
    frame = run.state.stack[-1] if run.state.stack else None
    if frame is None or frame.flow != request.flow:
        return
    op = run.bot.flows[frame.flow].ops[frame.pc]
    assert isinstance(op, AskOp)
    if not outcome.ok:
        run.set_slot(op.slot, None, f"action:{request.name}")
        fail_flow(run)
        return
    filled = run.state.slots.get(op.slot) is not None
    # Asking the emptied slot again is a refusal like any other (counted against max_attempts), not a jump
    retry = not filled and requested == op.slot
    if requested is not _UNSET and not retry and ask_requested(run, frame, requested, request.name):
        return
    if filled:
        frame.waiting = False
        frame.attempts = 0
        frame.pc += 1
        if followup is not None and _follow_up(run, request, frame, followup):
            return
        execute(run)
        return
    if request.activation:  # the form has just started: nothing was refused, its first question is asked
        frame.attempts = 0
        prompt(run, op)
        return
    if followup is not None:
        run.log(
            "error",
            flow=frame.flow,
            error=f"action {request.name} rejected {op.slot} and asked to follow "
            f"up with {followup!r}; the question is asked again instead",
        )
    # the validator's own words explain the refusal; without them, the flow's ``invalid`` text does
    reject(
        run, frame, op, explained=any(isinstance(e, (fx.Say, fx.SayResponse)) for e in outcome.effects), by=request.name
    )


def _follow_up(run: Run, request: ActionRequest, frame: Frame, name: str) -> bool:
    """Apply ``FollowupAction``; True when the engine now waits for another action or has gone on already."""
    flow = form_flow(run.bot, name)
    if flow is not None and resume_waiting(run, flow.name, request.name):
        return True  # a question already open (the interrupted form) is asked again, not started over
    if flow is not None:
        run.log("flow", flow=frame.flow, status="ended", followup=flow.name)
        run.state.stack[-1] = Frame(flow.name)
        run.state.message_tag = flow.message_tag
        run.log("flow", flow=flow.name, status="started", trigger="followup")
    elif name in run.bot.actions:
        # False after the limit: the turn was stopped, nothing more must run
        return run.request_action(ActionRequest(name, frame.flow, None, advance=False)) or True
    elif name in run.bot.responses or (name.startswith("utter_") and name[6:] in run.bot.responses):
        _say_response(run, request, fx.SayResponse(name))
    elif name != "action_listen":
        run.log(
            "error",
            flow=frame.flow,
            error=f"action {request.name} asked to follow up with {name!r}, "
            "which is neither a flow, an action nor a text",
        )
    return False


def _action_slot(run: Run, request: ActionRequest, name: str, value: Any) -> None:
    if name == "requested_slot" and name not in run.bot.slots:
        return  # only a form's validation action decides what the form asks next (apply_outcome)
    if name == "language" and name not in run.bot.slots:  # the thread's language, as the tracker shows it
        if value in run.bot.languages:
            if value != run.state.language:
                run.log("language", previous=run.state.language, language=value, source=f"action:{request.name}")
                run.state.language = value
        else:
            run.log(
                "error",
                flow=request.flow,
                error=f"action {request.name} set the language to {value!r}, which the bot does not speak",
            )
        return
    slot = run.bot.slots.get(name)
    answer = coerce(value, slot) if slot is not None and value is not None else Answer(True, value)
    if answer.ok:
        run.set_slot(name, answer.value, f"action:{request.name}")
    else:
        run.log("error", flow=request.flow, error=f"action {request.name} set {name} to an invalid value {value!r}")


def _reset_slots(run: Run, source: str) -> None:
    reset_slots(run, source)


def _say_response(run: Run, request: ActionRequest, effect: fx.SayResponse) -> None:
    key = effect.key
    if key not in run.bot.responses and key.startswith("utter_") and key[6:] in run.bot.responses:
        key = key[6:]  # Rasa's naming convention for the same text
    if key not in run.bot.responses:
        run.log("error", flow=request.flow, error=f"action {request.name} used unknown response {effect.key!r}")
        return
    values = {**run.values(), **effect.values}
    run.say(
        TextRef(key=key),
        tuple(effect.buttons),
        tuple(effect.quick_replies),
        values=values,
        add_buttons=True,
        overrides=effect.overrides,
    )


def _pause(run: Run, source: str) -> None:
    for frame in reversed(run.state.stack):
        run.log("flow", flow=frame.flow, status="ended", reason="paused")
    run.state.stack.clear()
    run.state.message_tag = None
    if not run.state.handoff:
        run.state.handoff = True
        run.log("handoff", active=True, reason=source)


def _restart(run: Run, source: str) -> None:
    state = run.state
    for frame in reversed(state.stack):
        run.log("flow", flow=frame.flow, status="cancelled", reason="restart")
    state.stack.clear()
    reset_slots(run, source, reset="restart")
    if state.handoff:
        state.handoff = False
        run.log("handoff", active=False, by=source)
    state.fallback_streak = 0
    state.message_tag = None
    state.site_events.clear()
    for reminder in state.reminders:
        run.log("reminder", status="cancelled", name=reminder["name"], reason="restart")
    state.set_reminders([])
    run.log("restart", by=source)


def _rewind(run: Run, request: ActionRequest) -> bool:
    """Back to the state before the customer's message; False when the turn had no message."""
    before = run.turn.before
    if before is None or not run.turn.events or run.turn.events[0].kind != "user":
        run.log(
            "error",
            flow=request.flow,
            error=f"action {request.name} reverted a user message, but this turn did not start with one",
        )
        return False
    for name, value in before.slots.items():
        run.set_slot(name, value, "rewind")
    for name in [n for n in run.state.slots if n not in before.slots]:
        del run.state.slots[name]
    run.state.stack = [
        Frame(f.flow, f.pc, f.waiting, f.attempts, trigger_intent=f.trigger_intent, given=dict(f.given))
        for f in before.stack
    ]
    run.state.fallback_streak = before.fallback_streak
    run.state.message_tag = before.message_tag
    run.log("rewind", by=f"action:{request.name}")
    return True
