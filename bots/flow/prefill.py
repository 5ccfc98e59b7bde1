"""Several answers in one message: each question the flow reaches in the same turn takes its value from the
message that started or answered it, when the message holds one no other question of the type has taken.

"open a ticket, it's urgent, mail me at anna@example.com tomorrow" fills the priority, the e-mail address and
the day; "it's order ST-234567, they're too small" the order and the reason; "morgen um 10 Uhr" the day and
the time. A careful agent does not ask again for what the customer has just said.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bots.flow.answers import NO, Answer, coerce, named_choices, read_answer
from bots.flow.mappings import BUILT_IN_ENTITIES, builtin_answer, entity_span, fits
from bots.flow.model import AskOp
from bots.flow.run import Run

_TYPED_IN_TEXT = ("regex", "email", "phone", "number")  # read from the text itself


def message_value(run: Run, op: AskOp, pc: int, flow: str) -> Answer:
    """The value for ``op`` in this turn's message, from a part of it no other question took (a day and a time
    may come from one phrase)."""
    text = run.turn.prefill
    if not text:
        return NO
    kind = op.validator.type
    every = [span for spans in run.turn.used.values() for span in spans]
    if kind in _TYPED_IN_TEXT:  # digits inside "ST-123456" are no quantity once the order number took them
        return read_answer(_masked(text, every), op.validator)
    if kind in BUILT_IN_ENTITIES:
        nlu = run.turn.nlu
        if nlu is None:
            return NO
        taken = run.turn.used.get(kind, [])  # "morgen um 10 Uhr" gives the day and the time
        entities = tuple(e for e in nlu.entities if not any(_overlaps(entity_span(e, text), span) for span in taken))
        return builtin_answer(op, text, replace(nlu, entities=entities))
    if kind == "choice" or op.choices:
        if op.slot in run.turn.filled:  # an entity of the question's name: "the sole came off" is "defective"
            value, span = run.turn.filled[op.slot]
            return Answer(True, value, span)
        return _title_in(run, op, pc, flow, _masked(text, every))
    return NO


def mark_used(run: Run, op: AskOp, span: tuple[int, int] | None) -> None:
    """The part of the message ``op`` took: no other question of its type takes it; all of it ends the reading."""
    if span is None:
        run.turn.prefill = None
    else:
        run.turn.used.setdefault(op.validator.type, []).append(span)


def titles_named(run: Run, flow: str, text: str, *, after: int = -1) -> dict[str, Any]:
    """For each choice question of ``flow`` (those after the op at ``after``), the one choice whose title
    ``text`` names ("they're too big")."""
    named: dict[str, Any] = {}
    for pc, op in enumerate(run.bot.flows[flow].ops):
        if pc > after and isinstance(op, AskOp) and (op.choices or op.validator.type == "choice"):
            found = _title_in(run, op, pc, flow, text)
            if found.ok:
                named.setdefault(op.slot, found.value)
    return named


# entities whose value a later question of that type takes as it is: an address, and a time of day (said before
# its day was: "call me back on christmas eve at 2pm" asks the day, then not the time again)
_KEPT_FOR_LATER = ("email", "phone", "time")


def values_named(run: Run, flow: str, *, after: int = -1) -> dict[str, object]:
    """The e-mail address, phone number or time of day this turn's message gives, for the one question of that
    type of ``flow`` (after the op at ``after``), whatever the slot is called: "a gift card for mum@example.com"
    asked for the amount, then the address again; "at 3pm" to "which day?" was asked again after the day. Two of
    a kind in the message, or two such questions, and it is not guessed."""
    nlu = run.turn.nlu
    if nlu is None:
        return {}
    ops = run.bot.flows[flow].ops
    asks = [op for pc, op in enumerate(ops) if pc > after and isinstance(op, AskOp) and not op.mappings]
    named: dict[str, object] = {}
    for kind in _KEPT_FOR_LATER:
        wanting = [op for op in asks if op.validator.type == kind]
        if len(wanting) != 1:
            continue
        values = [e.value for e in nlu.entities if e.entity == kind and fits(wanting[0], e)]
        if len(values) == 1 and (value := coerce(values[0], wanting[0].validator)).ok:
            named[wanting[0].slot] = value.value  # as the question keeps it: "15:00" of "2026-12-24T15:00"
    return named


def _title_in(run: Run, op: AskOp, pc: int, flow: str, text: str) -> Answer:
    """The one choice whose title (in any language) stands in ``text`` as whole words ("they're too small")."""
    titles = run.prepared.choice_titles[flow].get(pc, {})
    found = named_choices(text, op.validator, titles, language=run.state.language)
    return Answer(True, next(iter(found))) if len(found) == 1 else NO


def _masked(text: str, spans: list[tuple[int, int]]) -> str:
    for start, end in spans:
        text = text[:start] + " " * (end - start) + text[end:]
    return text


def _overlaps(span: tuple[int, int] | None, other: tuple[int, int]) -> bool:
    return span is not None and span[0] < other[1] and other[0] < span[1]
