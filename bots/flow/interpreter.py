"""The flow interpreter: runs a flow's steps until it waits for the customer, needs an action, or ends.

Also what starts, interrupts and ends flows on the thread's stack of running
flows, for the modules that react to messages, actions and reminders.
"""

from __future__ import annotations

from bots.flow.answers import Answer, coerce, fold
from bots.flow.expressions import Expression, ExpressionError, Template
from bots.flow.mappings import trigger_value
from bots.flow.model import (
    ActionOp,
    AskOp,
    BranchOp,
    CarouselOp,
    EndOp,
    GotoFlowOp,
    HandoffOp,
    JumpOp,
    MediaOp,
    OptOutOp,
    SayOp,
    SetOp,
    SlotDef,
    TypingOp,
)
from bots.flow.prefill import mark_used, message_value, titles_named, values_named
from bots.flow.prompts import prompt, resume_question
from bots.flow.run import Run
from bots.flow.state import Frame
from bots.flow.turn import ActionRequest
from bots.types import Card, Carousel, Media, Text, Typing

MAX_OPS_PER_TURN = 200


def start_flow(run: Run, flow: str, prefill: str | None) -> None:
    """Start ``flow`` on an empty stack; ``prefill`` is the message, for its first question to take a value from."""
    run.state.stack.append(Frame(flow, trigger_intent=_trigger_intent(run, flow), given=_given(run, flow, prefill)))
    run.state.message_tag = run.bot.flows[flow].message_tag
    run.turn.prefill = prefill
    run.log("flow", flow=flow, status="started")
    execute(run)


def restart_flow(run: Run, text: str) -> None:
    """The open flow asked for again, with new values, where its question takes none ("and i'll take the city glide
    in 41" to "Shall I put the Trail Runner 2 in your cart?"): it starts over from this message, in its place."""
    frame = run.state.stack.pop()
    run.log("flow", flow=frame.flow, status="restarted")
    run.state.stack.append(
        Frame(
            frame.flow,
            saved=frame.saved,
            trigger_intent=_trigger_intent(run, frame.flow),
            given=_given(run, frame.flow, text),
        )
    )
    for slot, (value, _span) in run.turn.filled.items():
        run.set_slot(slot, value, "entity")
    run.turn.prefill = text
    execute(run)


def _trigger_intent(run: Run, flow: str) -> str | None:
    """The intent starting ``flow`` in this turn, for its frame to keep when a question of it maps that intent."""
    mapped = any(
        isinstance(op, AskOp) and any(m.type == "from_trigger_intent" for m in op.mappings)
        for op in run.bot.flows[flow].ops
    )
    return run.turn.trigger_intent if mapped else None


def _given(run: Run, flow: str, text: str | None) -> dict[str, object]:
    """What the message starting ``flow`` says for its questions, for the frame to keep (``Frame.given``): this
    turn's entity values, and the choices whose titles it names ("return them, they're too big"). A Rasa form
    keeps none: its slot mappings and validation action decide what a message fills, as in Rasa."""
    definition = run.bot.flows[flow]
    if definition.form is not None:
        return {}
    asked = {op.slot for op in definition.ops if isinstance(op, AskOp)}
    given: dict[str, object] = {slot: value for slot, (value, _span) in run.turn.filled.items() if slot in asked}
    for slot, value in titles_named(run, flow, text).items() if text else ():
        given.setdefault(slot, value)
    for slot, value in values_named(run, flow).items() if text else ():
        given.setdefault(slot, value)
    return given


def interrupt(run: Run, waiting: Frame, flow: str, *, trigger: str | None = None, tagged: bool = False) -> None:
    """Start ``flow`` over one waiting for an answer, which resumes when ``flow`` ends.

    ``tagged``: ``flow``'s Messenger tag (if any) becomes the thread's.
    """
    run.log("flow", flow=waiting.flow, status="interrupted", by=flow)
    # The answers the running flows hold are theirs: the interruption may use the shared slots (with this
    # message's own values, "where is my order ST-123456?"), and they are put back when it ends.
    saved = {slot: run.state.slots.get(slot) for frame in run.state.stack for slot in frame.asked}
    run.state.stack.append(
        Frame(flow, saved=saved, trigger_intent=_trigger_intent(run, flow), given=_given(run, flow, run.turn.prefill))
    )
    for slot in saved:
        if slot in run.turn.filled:
            run.set_slot(slot, run.turn.filled[slot][0], "entity")
    if tagged:
        run.state.message_tag = run.bot.flows[flow].message_tag or run.state.message_tag
    run.log("flow", flow=flow, status="started", **({"trigger": trigger} if trigger else {}))
    execute(run)


def finish_flow(run: Run, status: str = "ended") -> None:
    """End the top flow; the one below resumes (asking its question again) unless the ended one says not to."""
    state = run.state
    frame = state.stack.pop()
    run.log("flow", flow=frame.flow, status=status)
    if not state.stack:
        state.message_tag = None  # a flow's Messenger tag covers that flow only
        if status == "ended":  # for a correction of its answers, or the same request for another value
            state.ended = {"flow": frame.flow, "asked": list(frame.asked), "turn": state.turn}
    if state.stack and not run.bot.flows[frame.flow].resume_interrupted:
        for dropped in reversed(state.stack):
            run.log("flow", flow=dropped.flow, status="cancelled", by=frame.flow)
        state.stack.clear()
        return
    if state.stack and state.stack[-1].waiting:
        below = state.stack[-1]
        op = run.bot.flows[below.flow].ops[below.pc]
        assert isinstance(op, AskOp)
        run.turn.prefill = None  # the message was the interruption's
        for slot, value in frame.saved.items():  # an answer the interruption changed or emptied is put back
            run.set_slot(slot, value, "restored")
        if state.slots.get(op.slot) is not None and not op.always:
            run.log("flow", flow=below.flow, status="resumed")
            below.waiting = False  # the interruption answered the question (e.g. size help chose the size)
            below.attempts = 0
            below.pc += 1
            return
        resume_question(run, below, op, way_on_offered=frame.flow == run.bot.fallback_flow)


def fail_flow(run: Run) -> None:
    """An action failed with no error path: apologise, end the flow, and go back to the one below."""
    run.emit(Text(run.apology()))
    finish_flow(run, status="failed")
    if not (run.state.stack and run.state.stack[-1].waiting):
        execute(run)


def execute(run: Run) -> None:
    """Execute operations until the flow stack waits for the customer, needs an action, or is empty."""
    state = run.state
    executed = 0
    while state.stack:
        frame = state.stack[-1]
        if frame.waiting:
            return
        flow = run.bot.flows[frame.flow]
        if frame.pc >= len(flow.ops):
            finish_flow(run)
            continue
        executed += 1
        if executed > MAX_OPS_PER_TURN:
            # A loop its conditions never end: drop what it produced and apologise once.
            run.log(
                "error",
                flow=frame.flow,
                error=f"more than {MAX_OPS_PER_TURN} steps in one turn (a goto loop?); the flow was stopped",
            )
            state.stack.clear()
            run.turn.outbound.clear()
            run.emit(Text(run.apology()))
            return
        op = flow.ops[frame.pc]
        if isinstance(op, SayOp):
            run.say(op.text, run.buttons(op.buttons), run.quick_replies(op.quick_replies))
        elif isinstance(op, MediaOp):
            run.emit(
                Media(
                    op.media,
                    run.render(op.url),
                    run.text(op.caption) if op.caption else "",
                    run.buttons(op.buttons),
                    run.quick_replies(op.quick_replies),
                )
            )
        elif isinstance(op, CarouselOp):
            cards = tuple(
                Card(
                    run.text(c.title),
                    run.text(c.subtitle) if c.subtitle else "",
                    run.render(c.image) if c.image else "",
                    run.buttons(c.buttons),
                )
                for c in op.cards
            )
            run.emit(Carousel(cards, run.quick_replies(op.quick_replies)))
        elif isinstance(op, TypingOp):
            run.emit(Typing(op.seconds))
        elif isinstance(op, AskOp):
            if _ask(run, frame, op):
                return
            continue
        elif isinstance(op, SetOp):
            _set(run, op, frame)
        elif isinstance(op, BranchOp):
            frame.pc = frame.pc + 1 if run.condition(op.condition, frame.flow) else op.target
            continue
        elif isinstance(op, JumpOp):
            frame.pc = op.target
            continue
        elif isinstance(op, GotoFlowOp):
            target = run.bot.flows[op.flow]
            run.log("flow", flow=frame.flow, status="ended", goto=op.flow)
            state.stack[-1] = Frame(op.flow, target.labels[op.label] if op.label else 0)
            run.log("flow", flow=op.flow, status="started", trigger="goto")
            continue
        elif isinstance(op, ActionOp):
            run.request_action(ActionRequest(op.name, frame.flow, op.error_pc))
            return
        elif isinstance(op, HandoffOp):
            if op.text is not None:
                run.say(op.text)
            for waiting in reversed(state.stack):
                run.log("flow", flow=waiting.flow, status="ended", reason="handoff")
            state.stack.clear()
            state.message_tag = None
            state.handoff = True
            run.log("handoff", active=True, flow=frame.flow)
            return
        elif isinstance(op, EndOp):
            finish_flow(run)
            continue
        elif isinstance(op, OptOutOp) and state.opted_out != op.value:
            state.opted_out = op.value
            run.log("opt_out", opted_out=op.value, flow=frame.flow)
        frame.pc += 1


def request_validation(run: Run, frame: Frame, op: AskOp, *, activation: bool = False) -> bool:
    """A form (``form: <name>``) with a ``validate_<name>`` action (rasa-sdk's FormValidationAction) has it check
    each answer, and, with ``activation``, run once as the form starts, as Rasa runs it on activation (it may
    fill or skip slots, or choose the first question, before anything is asked).

    True when it does: the turn now waits for that action.
    """
    form = run.bot.flows[frame.flow].form
    name = f"validate_{form}"
    if form is None or name not in run.bot.actions:
        return False
    frame.waiting = True
    frame.activated = True
    run.request_action(
        ActionRequest(name, frame.flow, None, advance=False, validate_slot=op.slot, activation=activation)
    )
    return True


def _ask(run: Run, frame: Frame, op: AskOp) -> bool:
    """Run an ask step; True when it now waits for the customer (or for the form's validation at its start)."""
    if not frame.activated and request_validation(run, frame, op, activation=True):
        return True
    current = run.state.slots.get(op.slot)
    if current is not None and not op.always:
        if not fits_choices(op, current):  # filled from elsewhere (an entity) with a value this question refuses
            run.log("slot_rejected", name=op.slot, value=current, source="choices")
            run.set_slot(op.slot, None, "choices")
        else:
            if op.slot not in frame.asked:
                frame.asked.append(op.slot)
            if op.slot in run.turn.filled and request_validation(run, frame, op):
                return True  # this message's entity filled it: the flow's validation action checks it too
            frame.pc += 1
            return False
    mapped = trigger_value(op, frame.trigger_intent)
    if mapped.ok and mapped.value is not None and fits_choices(op, mapped.value):
        return _take(run, frame, op, mapped.value, "trigger_intent")
    found = message_value(run, op, frame.pc, frame.flow)
    if found.ok and found.value is not None and fits_choices(op, found.value):
        mark_used(run, op, found.span)
        return _take(run, frame, op, found.value, "message")
    given = frame.given.pop(op.slot, None)  # said when the flow started, before a question in between
    if given is not None and not op.always and fits_choices(op, given):
        return _take(run, frame, op, given, "entity")
    run.turn.prefill = None
    frame.waiting = True
    frame.attempts = 0
    frame.reprompts = 0
    prompt(run, op)
    return True


def _take(run: Run, frame: Frame, op: AskOp, value: object, source: str) -> bool:
    """Fill an ask without asking it (the message that started the flow held the value); True when it waits."""
    run.set_slot(op.slot, value, source)
    frame.asked.append(op.slot)
    if request_validation(run, frame, op):
        return True
    frame.pc += 1
    return False


def fits_choices(op: AskOp, value: object) -> bool:
    """Whether a value suits an ask with closed choices (any value does when it has none or allows others)."""
    if not op.choices or op.allow_other:
        return True
    return fold(str(value)) in {fold(str(choice.value)) for choice in op.choices}


def _set(run: Run, op: SetOp, frame: Frame) -> None:
    flow = frame.flow
    # set after one of the flow's questions ("another size" to "shall I put size 43 in the cart?"): the value the
    # starting message gave is not taken again; set before any ("emptied first") it still is
    after_a_question = any(isinstance(other, AskOp) for other in run.bot.flows[flow].ops[: frame.pc])
    for name, value in op.assignments:
        if after_a_question:
            frame.given.pop(name, None)
        if isinstance(value, Expression):
            try:
                value = value.evaluate(run.values(), run.functions())
            except ExpressionError as exc:
                run.log("error", flow=flow, error=str(exc))
                continue
        elif isinstance(value, Template):
            value = value.render(run.values())
        slot: SlotDef | None = run.bot.slots.get(name)
        answer = coerce(value, slot) if slot is not None else Answer(True, value)
        if answer.ok:
            run.set_slot(name, answer.value, "set")
        else:
            run.log("error", flow=flow, error=f"set {name}: {value!r} is not a valid {slot.type if slot else ''}")
