"""Rasa's forms in flow terms: which question belongs to the active form, and what form actions may change.

A flow declared with ``form: <name>`` is that form: while one of its questions
is open (asked, interrupted by another flow, or being checked by
``validate_<name>``) the form is the ``active_loop`` actions see and its slot
is the ``requested_slot``. A flow without ``form:`` is never a form, so an
action written for Rasa that reverts the message and follows up with "the
active form" when there is one does nothing of the kind outside a form.
"""

from __future__ import annotations

from typing import Any

from bots.flow.interpreter import execute
from bots.flow.model import AskOp, Bot, Flow
from bots.flow.prompts import prompt
from bots.flow.run import Run
from bots.flow.state import Frame


def active_form(bot: Bot, stack: list[Frame]) -> tuple[Flow, Frame, AskOp] | None:
    """The innermost form whose question is open: its flow, its frame and the question."""
    for frame in reversed(stack):
        flow = bot.flows.get(frame.flow)
        if flow is None or flow.form is None or not frame.waiting or frame.pc >= len(flow.ops):
            continue
        op = flow.ops[frame.pc]
        if isinstance(op, AskOp):
            return flow, frame, op
    return None


def form_flow(bot: Bot, name: str) -> Flow | None:
    """The flow a ``FollowupAction`` or ``ActiveLoop`` name means: a flow, or the flow declaring that form."""
    if name in bot.flows:
        return bot.flows[name]
    return next((flow for flow in bot.flows.values() if flow.form == name), None)


def resume_waiting(run: Run, flow: str, by: str) -> bool:
    """Follow up with a flow whose question is open: the flows above it end and it asks again.

    Rasa's ``FollowupAction(<active form>)`` means "go on with the form", not
    "start it over": starting it again would run its steps (and actions) again.
    False when no frame of ``flow`` waits for an answer.
    """
    stack = run.state.stack
    index = next((i for i in range(len(stack) - 1, -1, -1) if stack[i].flow == flow and stack[i].waiting), None)
    if index is None:
        return False
    for above in reversed(stack[index + 1 :]):
        run.log("flow", flow=above.flow, status="ended", followup=flow, by=by)
    del stack[index + 1 :]
    frame = stack[index]
    op = run.bot.flows[flow].ops[frame.pc]
    assert isinstance(op, AskOp)
    run.log("flow", flow=flow, status="resumed", by=by)
    if run.state.slots.get(op.slot) is not None and not op.always:
        frame.waiting = False  # the action answered the question itself
        frame.attempts = 0
        frame.pc += 1
        execute(run)
    else:
        prompt(run, op, again=True)
    return True


def ask_requested(run: Run, frame: Frame, requested: Any, by: str) -> bool:
    """A form validation action set ``requested_slot``: ask that slot next, or, set to None, end the form.

    Ending the form goes on after the flow's last question. False (logged)
    when the slot is not one the flow asks: the flow then goes on as usual.
    """
    flow = run.bot.flows[frame.flow]
    asks = [pc for pc, op in enumerate(flow.ops) if isinstance(op, AskOp)]
    frame.attempts = 0
    if requested is None:
        run.log("form", form=flow.form, status="done", by=by)
        frame.waiting = False
        frame.pc = asks[-1] + 1
        execute(run)
        return True
    target = next((pc for pc in asks if getattr(flow.ops[pc], "slot", None) == requested), None)
    if target is None:
        run.log(
            "error",
            flow=flow.name,
            error=f"action {by} set requested_slot to {requested!r}, which flow {flow.name!r} does not ask; ignored",
        )
        return False
    op = flow.ops[target]
    assert isinstance(op, AskOp)
    frame.pc = target
    frame.waiting = True
    prompt(run, op)
    return True


def end_active_form(run: Run, by: str) -> None:
    """``ActiveLoop(None)`` from an action that is not the form's validation: the open form is dropped."""
    found = active_form(run.bot, run.state.stack)
    if found is None:
        return
    flow, frame, _op = found
    run.state.stack.remove(frame)
    run.log("flow", flow=flow.name, status="cancelled", reason="active_loop", by=by)
