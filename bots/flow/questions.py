"""A question the flow asked, answered: the answer taken, or refused and the question asked again."""

from __future__ import annotations

from typing import Any

from bots.flow.answers import Answer, fold, read_answer
from bots.flow.interpreter import execute, interrupt, prompt, request_validation
from bots.flow.model import AskOp, Bot, Flow
from bots.flow.run import ChoiceTitles, Run
from bots.flow.state import Frame
from bots.flow.triggers import TriggerMatch
from bots.types import NLUResult, Text


def choice_titles(bot: Bot, flow: Flow) -> ChoiceTitles:
    """For each ask with choices: every language's title, folded, mapped to the value."""
    titles: ChoiceTitles = {}
    for pc, op in enumerate(flow.ops):
        if isinstance(op, AskOp) and op.choices:
            mapping: dict[str, Any] = {}
            for choice in op.choices:
                texts = (
                    bot.responses.get(choice.title.key, {}).values()
                    if choice.title.key
                    else [(text,) for _lang, text in choice.title.inline]
                )
                for variants in texts:
                    for text in variants:
                        mapping.setdefault(fold(text), choice.value)
            titles[pc] = mapping
    return titles


def answer(run: Run, frame: Frame, text: str, nlu: NLUResult | None, match: TriggerMatch | None) -> None:
    """The customer's message to a waiting question: its answer, another flow interrupting, or a refusal."""
    flow = run.bot.flows[frame.flow]
    op = flow.ops[frame.pc]
    assert isinstance(op, AskOp)
    titles = run.prepared.choice_titles[flow.name].get(frame.pc, {})
    reply = read_answer(text, op.validator, titles=titles, intent=nlu.intent if nlu else None)
    if op.choices and not op.allow_other and reply.ok and op.validator.type != "choice":
        allowed = {fold(str(c.value)) for c in op.choices}
        if fold(str(reply.value)) not in allowed and fold(text) not in titles:
            reply = Answer(False)
    free_text = op.validator.type in ("text", "any")
    explicit = match is not None and match.kind == "payload"
    if reply.ok and not explicit and not (free_text and match is not None):
        _fill(run, frame, op, reply.value)
        return
    if match is not None and match.flow != frame.flow and flow.interruptible:
        run.state.fallback_streak = 0
        interrupt(run, frame, match.flow)
        return
    if reply.ok:
        _fill(run, frame, op, reply.value)
        return
    reject(run, frame, op, explained=False, text=text)


def reject(run: Run, frame: Frame, op: AskOp, *, explained: bool, **why: Any) -> None:
    """An answer that will not do: ask again, or after ``max_attempts`` take the ask's failure path."""
    frame.attempts += 1
    run.log("slot_rejected", name=op.slot, **why, attempt=frame.attempts)
    if frame.attempts >= op.max_attempts:
        frame.waiting = False
        frame.attempts = 0
        frame.pc = op.failure_pc
        run.log("flow", flow=frame.flow, status="ask_failed", slot=op.slot)
        execute(run)
        return
    if op.invalid is not None and not explained:
        run.emit(Text(run.text(op.invalid)))
    prompt(run, op)


def _fill(run: Run, frame: Frame, op: AskOp, value: Any) -> None:
    run.turn.prefill = None  # this message answered this question; it must not answer the next one
    run.set_slot(op.slot, value, "answer")
    if request_validation(run, frame, op):
        return
    frame.waiting = False
    frame.attempts = 0
    frame.pc += 1
    execute(run)
