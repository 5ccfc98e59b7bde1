"""Asking a question: its prompt with its choices, and asking it again after the customer talked of something else.

Resuming a question is where a careful agent differs from a form that repeats
itself: it comes back with a short resume line, a bounded number of times.
"""

from __future__ import annotations

from bots.flow.expressions import format_value
from bots.flow.model import AskOp
from bots.flow.run import Run
from bots.flow.state import Frame
from bots.flow.turn import ActionRequest
from bots.types import Button, QuickReply, Text


def prompt(run: Run, op: AskOp, lead: str = "", *, again: bool = False) -> None:
    """Ask an ask step's question, with its choices as quick replies or buttons, after ``lead`` if given;
    ``again``: asked again (after a wrong answer or an aside), in its ``reprompt`` words when it has them.

    A question asked by a custom action (Rasa's ``action_ask_<slot>``) has that action run: what it says is
    the prompt, and the question (already waiting) waits for the answer once it has run.
    """
    if op.ask_action is not None:
        if lead:
            run.emit(Text(lead))
        flow = run.state.stack[-1].flow if run.state.stack else ""
        run.request_action(ActionRequest(op.ask_action, flow, None, advance=False))
        return
    assert op.prompt is not None
    asked = op.reprompt if again and op.reprompt is not None else op.prompt
    choices: tuple[QuickReply, ...] = tuple(QuickReply(run.text(c.title), format_value(c.value)) for c in op.choices)
    if op.style == "buttons" and choices:
        run.say(asked, tuple(Button(c.title, "postback", c.payload) for c in choices), own_buttons=False, lead=lead)
    else:
        run.say(asked, quick_replies=choices, own_buttons=not choices, lead=lead)


def resume_question(run: Run, below: Frame, op: AskOp, *, way_on_offered: bool = False) -> None:
    """Ask an interrupted question again with a resume line, within its budget; past it, offer a way on.

    A careful agent answers the aside, then comes back to the question once or
    twice, not forever: ``max_reprompts`` bounds the re-asks, ``on_digression:
    drop`` lets the question go at once. ``way_on_offered``: the aside itself
    offered one (the fallback's menu), so the question is let go without a second.
    """
    state, digressions = run.state, run.bot.digressions
    policy = op.on_digression or digressions.on_digression
    budget = op.max_reprompts if op.max_reprompts is not None else digressions.max_reprompts
    if policy == "drop" or below.reprompts >= budget:
        reason = "digression" if policy == "drop" else "reprompt_budget"
        for dropped in reversed(state.stack):
            run.log("flow", flow=dropped.flow, status="cancelled", reason=reason, slot=op.slot)
        state.stack.clear()
        state.message_tag = None
        if policy != "drop" and digressions.give_up_flow is not None and not way_on_offered:
            state.stack.append(Frame(digressions.give_up_flow))
            run.log("flow", flow=digressions.give_up_flow, status="started", trigger="reprompt_budget")
        return
    below.reprompts += 1
    run.log("flow", flow=below.flow, status="resumed", reprompt=below.reprompts)
    prompt(run, op, run.text(digressions.resume) if digressions.resume is not None else "", again=True)
