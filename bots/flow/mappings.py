"""Rasa's slot mappings on an ask: the value from an entity (with role and group), an intent, the text, or the
intent that started the flow.

Rasa users port forms by their mappings; the engine takes the first mapping
that applies, and the value is then checked like any other answer.
"""

from __future__ import annotations

from typing import Any

from bots.flow.answers import NO, Answer, coerce, read_answer
from bots.flow.duckling import DAY_OR_LONGER
from bots.flow.model import AskOp, SlotMapping
from bots.types import Entity, NLUResult, Payload


def _intent_applies(mapping: SlotMapping, intent: str | None) -> bool:
    if mapping.intents and intent not in mapping.intents:
        return False
    return intent not in mapping.not_intents


def mapped_answer(
    op: AskOp, text: str, nlu: NLUResult | None, payload: Payload | None, titles: dict[str, Any]
) -> Answer:
    """The answer an ask's mappings read from a message, the first that applies; NO when none does."""
    intent = payload.name[1:] if payload is not None else nlu.intent if nlu else None
    for mapping in op.mappings:
        if not _intent_applies(mapping, intent):
            continue
        if mapping.type == "from_entity":
            for entity in nlu.entities if nlu else ():
                if (
                    entity.entity == mapping.entity
                    and (mapping.role is None or entity.role == mapping.role)
                    and (mapping.group is None or entity.group == mapping.group)
                ):
                    value = coerce(entity.value, op.validator)
                    return Answer(value.ok, value.value, entity_span(entity, text)) if value.ok else value
            if payload is not None and mapping.entity in payload.entities and mapping.role is None:
                return coerce(payload.entities[mapping.entity], op.validator)
        elif mapping.type == "from_intent":
            return coerce(mapping.value, op.validator)
        elif mapping.type == "from_text" and payload is None:
            return read_answer(text, op.validator, titles=titles, intent=intent)
    return NO


# Slot types the NLU has a built-in entity for: a question of one takes that entity by default, so "zwei",
# "two please" or "zweiundvierzig" answer a number question as digits do (nlu_models/entities.py reads them);
# a day is also read from a day with a time ("tomorrow at 10"), an amount from a number with no currency
BUILT_IN_ENTITIES = {
    "number": ("number",),
    "email": ("email",),
    "phone": ("phone",),
    "date": ("date", "time"),
    "time": ("time",),
    "money": ("money", "number"),
}


def builtin_answer(op: AskOp, text: str, nlu: NLUResult | None) -> Answer:
    """The value of the built-in entity matching the ask's type, checked like typed text; NO when none fits.

    Spans count from the stripped text, as the engine reads it, so the rest of
    the message can still be judged an aside.
    """
    wanted = BUILT_IN_ENTITIES.get(op.validator.type, ())
    for name in wanted:  # in the order of preference: "50 €" before a plain 50
        for entity in nlu.entities if nlu else ():
            if entity.entity != name or not fits(op, entity):
                continue
            value = coerce(entity.value, op.validator)
            if value.ok:
                return Answer(True, value.value, entity_span(entity, text))
    return NO


def holds_builtin(op: AskOp, nlu: NLUResult | None) -> bool:
    """Whether the NLU found a built-in entity of the ask's type: then it, not the typed digits, is the answer, so
    "$50" to a question in euros is refused rather than read as 50."""
    wanted = BUILT_IN_ENTITIES.get(op.validator.type, ())
    return any(entity.entity in wanted and fits(op, entity) for entity in (nlu.entities if nlu else ()))


def fits(op: AskOp, entity: Entity) -> bool:
    """Whether a built-in entity of the question's kind can answer it: no whole day for a time of day, no time of
    day alone for a day."""
    return not _a_day_for_a_time(op, entity) and not _a_time_for_a_day(op, entity)


def _a_day_for_a_time(op: AskOp, entity: Entity) -> bool:
    """Duckling's ``time`` of a whole day (``settings.duckling``) answers no time-of-day question: a day is no
    time of day, as the built-in entities have it."""
    info = entity.additional_info
    return op.validator.type == "time" and isinstance(info, dict) and info.get("grain") in DAY_OR_LONGER


def _a_time_for_a_day(op: AskOp, entity: Entity) -> bool:
    """A time of day said without a day ("at 3pm", marked by the NLU) answers no "which day?": its date is only
    the next one the hour comes on, and taking it booked a call for today that nobody asked for."""
    info = entity.additional_info
    return op.validator.type == "date" and isinstance(info, dict) and info.get("day_said") is False


def entity_span(entity: Entity, text: str) -> tuple[int, int] | None:
    """Where ``entity`` lies in the stripped ``text`` the engine reads (the NLU counts from the raw text), so
    the rest of the message can be judged; None when the NLU gave no offsets."""
    if entity.start is None or entity.end is None:
        return None
    offset = len(text) - len(text.lstrip())
    return entity.start - offset, entity.end - offset


def trigger_value(op: AskOp, trigger_intent: str | None) -> Answer:
    """A ``from_trigger_intent`` value for an ask of a flow this turn's intent started; NO when none applies."""
    if trigger_intent is None:
        return NO
    for mapping in op.mappings:
        if mapping.type == "from_trigger_intent" and _intent_applies(mapping, trigger_intent):
            return coerce(mapping.value, op.validator)
    return NO
