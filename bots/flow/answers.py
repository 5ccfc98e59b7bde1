"""Reading a slot value out of what the customer typed, per slot type.

Customers answer "EU 42", "my mail is ana@example.com" or "st 123456", so
every reader searches the text rather than demanding an exact form, and
normalises what it finds.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from bots.flow.model import SlotDef
from bots.flow.slot_values import to_date, to_money, to_time

_NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:[.,]\d+)?(?![\w])|(?<![\w.])[-+]?\d+(?:[.,]\d+)?")
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"\+?\d[\d\s\-().]{5,}\d")
QUESTION_MARK = re.compile(r"[?？¿]")  # a message with one asks something: not an answer or a correction
_TRUE = {"true", "yes", "/affirm"}
_FALSE = {"false", "no", "/deny"}


@dataclass(frozen=True)
class Answer:
    ok: bool
    value: Any = None
    span: tuple[int, int] | None = None  # where in the (stripped) text the value was read; None: all of it


NO = Answer(False)


def fold(text: str) -> str:
    """Case- and accent-insensitive form used to compare what people type with what flows say."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.replace("đ", "d").split())


def _in_range(value: float, slot: SlotDef) -> bool:
    return (slot.min is None or value >= slot.min) and (slot.max is None or value <= slot.max)


def read_number(text: str, slot: SlotDef) -> Answer:
    for match in _NUMBER.finditer(text):
        value = float(match.group(0).replace(",", "."))
        if not _in_range(value, slot):
            continue
        return Answer(True, int(value) if value.is_integer() else value, match.span())
    return NO


def read_regex(text: str, slot: SlotDef) -> Answer:
    assert slot.pattern is not None
    match = slot.pattern.search(text)
    if not match:
        return NO
    if slot.normalize:
        fields = {name: value or "" for name, value in match.groupdict().items()}
        fields["match"] = match.group(0)
        value = re.sub(r"\{([^{}]*)\}", lambda m: fields.get(m.group(1), ""), slot.normalize)
        return Answer(True, value, match.span())
    return Answer(True, match.group(0), match.span())


def read_choice(text: str, slot: SlotDef, titles: dict[str, Any]) -> Answer:
    """``titles`` maps folded titles (in any language) to the choice's value."""
    wanted = fold(text)
    for value in slot.values:
        if fold(str(value)) == wanted:
            return Answer(True, value)
    if wanted in titles:
        return Answer(True, titles[wanted])
    return NO


def read_answer(text: str, slot: SlotDef, *, titles: dict[str, Any] | None = None, intent: str | None = None) -> Answer:
    """Try to read a value of ``slot``'s type from ``text``."""
    text = text.strip()
    if not text:
        return NO
    kind = slot.type
    if kind == "number":
        return read_number(text, slot)
    if kind == "email":
        match = _EMAIL.search(text)
        return Answer(True, match.group(0).lower(), match.span()) if match else NO
    if kind == "phone":
        match = _PHONE.search(text)
        if not match:
            return NO
        digits = re.sub(r"[^\d]", "", match.group(0))
        value = ("+" if match.group(0).startswith("+") else "") + digits
        return Answer(True, value, match.span()) if len(digits) >= 6 else NO
    if kind in ("date", "time"):  # typed as the normal form; words ("tomorrow") come from the NLU's entity
        found = to_date(text) if kind == "date" else to_time(text)
        return Answer(True, found[0], found[1]) if found else NO
    if kind == "money":  # digits alone are an amount in the slot's currency; "50 €" comes from the NLU's entity
        number = read_number(text, slot)
        return Answer(True, to_money(None, number.value, slot.currency), number.span) if number.ok else NO
    if kind == "regex":
        return read_regex(text, slot)
    if kind == "choice":
        return read_choice(text, slot, titles or {})
    if kind == "bool":
        folded = fold(text)
        if intent == "affirm" or folded in _TRUE:
            return Answer(True, True)
        if intent == "deny" or folded in _FALSE:
            return Answer(True, False)
        return NO
    return Answer(True, text)


def coerce(value: Any, slot: SlotDef) -> Answer:
    """Check a value that did not come from typed text (an entity, an action, a payload)."""
    if value is None:
        return Answer(True, None)
    if slot.type in ("any", "text"):
        return Answer(True, value if slot.type == "any" else str(value))
    if slot.type == "bool":
        return Answer(True, value) if isinstance(value, bool) else read_answer(str(value), slot)
    if slot.type == "number" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return read_number(str(value), slot)
    if slot.type == "money":
        number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
        money = to_money(value, number, slot.currency)
        if money is None or not _in_range(money["amount"], slot):
            return NO
        return Answer(True, money)
    if slot.type in ("date", "time"):
        found = to_date(value) if slot.type == "date" else to_time(value)
        return Answer(True, found[0]) if found else NO
    return read_answer(str(value), slot)
