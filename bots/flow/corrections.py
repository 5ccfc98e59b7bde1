"""Corrections: "no, 43", "actually ST-234567", "make it 42" change an answer given earlier in the flow.

A careful agent does not make the customer start over for a slip: the value
replaces the earlier answer and the steps after that question run again (a
lookup, a confirmation), while answers that still stand are kept.
"""

from __future__ import annotations

from dataclasses import replace

from bots.flow.answers import QUESTION_MARK, Answer, coerce, read_answer
from bots.flow.interpreter import execute, fits_choices, request_validation
from bots.flow.mappings import builtin_answer, holds_builtin
from bots.flow.model import AskOp
from bots.flow.run import Run
from bots.flow.slot_values import TYPED
from bots.flow.state import Frame
from bots.types import NLUResult

_ANY_TEXT = ("text", "any")  # free text reads anything: it cannot be told from a correction


def _value(op: AskOp, rest: str, nlu: NLUResult | None) -> Answer:
    """The value of ``op``'s type in what follows the correction words, read as an answer is: an entity of the
    slot's own name, the built-in entity of its type ("no, next Monday", "nein, lieber hundert Euro"), typed text."""
    if nlu is not None:
        own = [coerce(e.value, op.validator) for e in nlu.entities if e.entity == op.slot]
        if any(value.ok for value in own):
            return next(value for value in own if value.ok)
    typed = read_answer(rest, op.validator)
    if typed.ok and not (op.validator.type in TYPED and holds_builtin(op, nlu)):
        return typed
    return builtin_answer(op, rest, nlu)


def _in_rest(text: str, rest: str, nlu: NLUResult | None) -> NLUResult | None:
    """The NLU's result without the entities inside the correction words ("mai bine" is no month of May)."""
    if nlu is None:
        return None
    begins = len(text) - len(rest.strip())
    return replace(nlu, entities=tuple(e for e in nlu.entities if e.end is None or e.end > begins))


def correct(run: Run, frame: Frame, text: str, nlu: NLUResult | None = None) -> bool:
    """Take a correction of an earlier answer of ``frame``'s flow; True when the message was one.

    It is one when it opens with one of the bot's correction words and the rest
    holds a valid value of a question this flow asked before, the latest first,
    of any type (a number, a day, an amount in words), and not an answer to the
    question now open.
    """
    language = run.state.language or run.bot.default_language
    rest = run.prepared.triggers.after_correction(text, language)
    if rest is None:
        return False
    nlu = _in_rest(text, rest, nlu)
    ops = run.bot.flows[frame.flow].ops
    open_op = ops[frame.pc] if frame.pc < len(ops) else None  # None: a flow that has ended
    if isinstance(open_op, AskOp) and open_op.validator.type not in _ANY_TEXT and _value(open_op, rest, nlu).ok:
        return False  # "no, 43" to the size question itself is its answer
    corrected = _corrected(run, frame, rest, nlu)
    if not corrected:
        return False
    if open_op is None:  # logged before its steps run again, so the flow reads as running, then ended
        run.log("flow", flow=frame.flow, status="resumed", reason="correction")
    for _, op, value in corrected:
        run.log("slot_corrected", name=op.slot, previous=run.state.slots.get(op.slot), value=value)
        run.set_slot(op.slot, value, "correction")
    pc, op, _ = corrected[-1]  # the earliest question corrected: the steps after it run again
    frame.waiting, frame.attempts, frame.reprompts, frame.pc = False, 0, 0, pc
    if request_validation(run, frame, op):
        return True
    frame.pc = pc + 1
    execute(run)
    return True


def _corrected(run: Run, frame: Frame, rest: str, nlu: NLUResult | None) -> list[tuple[int, AskOp, object]]:
    """The questions asked before whose answer the correction changes, the latest first: the latest one with a
    value in it, and in a flow without a form's validation, each earlier one of another type too ("no, make it
    for bob@example.com and €100" changes the address and the amount). A number reads in too much (an amount,
    a day, a size) to be taken beside another value, and an earlier answer changes only by an entity of its own
    type: the day a time entity carries ("no, at 4pm") is no new day."""
    ops = run.bot.flows[frame.flow].ops
    several = run.bot.flows[frame.flow].form is None
    found: list[tuple[int, AskOp, object]] = []
    for pc in range(frame.pc - 1, -1, -1):
        op = ops[pc]
        if not isinstance(op, AskOp) or op.slot not in frame.asked or op.validator.type in _ANY_TEXT:
            continue
        if found and not (several and _another_value(op, {o.validator.type for _, o, _ in found}, nlu)):
            continue
        value = _value(op, rest, nlu)
        if value.ok and fits_choices(op, value.value):
            found.append((pc, op, value.value))
    return found


def correct_ended(run: Run, text: str, nlu: NLUResult | None = None) -> bool:
    """Take a correction of the flow that ended in the turn before this one; True when the message was one.

    "nein, 42" right after the size advice: a careful agent changes the size
    and gives the advice again rather than reading "nein" as a new request.
    Only the next turn counts, so an old flow is not reopened by a later "no".
    """
    ended, run.state.ended = run.state.ended, None
    if QUESTION_MARK.search(text):
        return False  # "no, where is ST-123456?" is a new request, not a changed answer
    if ended is None or ended["turn"] != run.state.turn - 1 or ended["flow"] not in run.bot.flows:
        return False
    frame = Frame(ended["flow"], pc=len(run.bot.flows[ended["flow"]].ops), asked=list(ended["asked"]))
    run.state.stack.append(frame)
    if correct(run, frame, text, nlu):
        return True
    run.state.stack.remove(frame)
    return False


def _another_value(op: AskOp, kinds: set[str], nlu: NLUResult | None) -> bool:
    """Whether ``op`` may be corrected beside answers of ``kinds``: of another type, no number, and an entity
    of its own type in the message."""
    if op.validator.type in kinds or "number" in kinds | {op.validator.type}:
        return False
    return nlu is not None and any(e.entity == op.validator.type for e in nlu.entities)
