"""Corrections: "no, 43", "actually ST-234567", "make it 42" change an answer given earlier in the flow.

A careful agent does not make the customer start over for a slip: the value
replaces the earlier answer and the steps after that question run again (a
lookup, a confirmation), while answers that still stand are kept.
"""

from __future__ import annotations

from bots.flow.answers import read_answer
from bots.flow.interpreter import execute, fits_choices, request_validation
from bots.flow.model import AskOp
from bots.flow.run import Run
from bots.flow.state import Frame

_ANY_TEXT = ("text", "any")  # free text reads anything: it cannot be told from a correction


def correct(run: Run, frame: Frame, text: str) -> bool:
    """Take a correction of an earlier answer of ``frame``'s flow; True when the message was one.

    It is one when it opens with one of the bot's correction words and the rest
    is a valid value of a question this flow asked before, the latest first, and
    not an answer to the question now open.
    """
    language = run.state.language or run.bot.default_language
    rest = run.prepared.triggers.after_correction(text, language)
    if rest is None:
        return False
    ops = run.bot.flows[frame.flow].ops
    open_op = ops[frame.pc]
    assert isinstance(open_op, AskOp)
    if open_op.validator.type not in _ANY_TEXT and read_answer(rest, open_op.validator).ok:
        return False  # "no, 43" to the size question itself is its answer
    for pc in range(frame.pc - 1, -1, -1):
        op = ops[pc]
        if not isinstance(op, AskOp) or op.slot not in frame.asked or op.validator.type in _ANY_TEXT:
            continue
        value = read_answer(rest, op.validator)
        if not value.ok or not fits_choices(op, value.value):
            continue
        run.log("slot_corrected", name=op.slot, previous=run.state.slots.get(op.slot), value=value.value)
        run.set_slot(op.slot, value.value, "correction")
        frame.waiting, frame.attempts, frame.reprompts, frame.pc = False, 0, 0, pc
        if request_validation(run, frame, op):
            return True
        frame.pc = pc + 1  # the steps that depend on the answer run again
        execute(run)
        return True
    return False
