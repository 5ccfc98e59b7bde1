"""Reading a slot value out of what the customer typed, per slot type.

Customers answer "EU 42", "my mail is ana@example.com" or "st 123456", so
every reader searches the text rather than demanding an exact form, and
normalises what it finds.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from bots.flow.model import SlotDef
from bots.flow.slot_values import to_date, to_money, to_time
from nlu_models.accents import fold as accent_fold
from nlu_models.accents import folded_with_offsets
from nlu_models.date_rewrites import AFTERNOON_HOURS
from nlu_models.day_parts import part_of_day_hour
from nlu_models.entity_words import UNSPACED, negated
from nlu_models.phones import find_phone

# a number starts where no letter, digit or point of a spaced script does; Chinese writes it against its words
_NUMBER_START = rf"(?<!(?!{UNSPACED.pattern})[\w.])"  # "我穿43码" holds 43, "abc43" and "x.43" none
_NUMBER = re.compile(rf"{_NUMBER_START}[-+]?\d+(?:[.,]\d+)?(?![\w])|{_NUMBER_START}[-+]?\d+(?:[.,]\d+)?")
_THOUSANDS = re.compile(r"[kK](?![^\W\d_])")  # "500k" is 500,000 (Vietnamese "500k" đồng), never 500
# an hour alone to a time question ("3", "10"): the hour of the day people mean, as the NLU reads "at 3"
_BARE_HOUR = re.compile(r"\s*(?P<hour>[01]?\d|2[0-3])\s*[.!]?\s*")
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
NAMED_CHOICE_LETTERS = 4  # a shorter choice answers only as the whole message ("No", "OK", "42")
QUESTION_MARK = re.compile(r"[?？¿]")  # a message with one asks something: not an answer or a correction
_TRUE = {"true", "yes", "/affirm", "👍", "👌", "✅"}  # a thumbs-up to a yes-or-no question is a yes
_FALSE = {"false", "no", "/deny", "👎", "❌"}
_SKIN_TONES = re.compile("[\U0001f3fb-\U0001f3ff]")


@dataclass(frozen=True)
class Answer:
    ok: bool
    value: Any = None
    span: tuple[int, int] | None = None  # where in the (stripped) text the value was read; None: all of it


NO = Answer(False)


def fold(text: str) -> str:
    """Case- and accent-insensitive form used to compare what people type with what flows say: the NLU's
    folding (letters that do not decompose, "ł", "đ", "ß", included), with spaces collapsed."""
    return " ".join(accent_fold(text.casefold()).split())


def _in_range(value: float, slot: SlotDef) -> bool:
    return (slot.min is None or value >= slot.min) and (slot.max is None or value <= slot.max)


def _hour_of_the_day(written: str) -> str:
    """ "3" is 15:00 and "10" 10:00, as the NLU reads "at 3" and "at 10"; "03" keeps its leading zero's 03:00."""
    hour = int(written)
    if hour in AFTERNOON_HOURS and not written.startswith("0"):
        hour += 12
    return f"{hour:02d}:00"


def read_number(text: str, slot: SlotDef) -> Answer:
    for match in _NUMBER.finditer(text):
        if _THOUSANDS.match(text, match.end()):
            continue
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


def read_choice(
    text: str, slot: SlotDef, titles: dict[str, Any], *, within: bool = True, language: str | None = None
) -> Answer:
    """``titles`` maps folded titles (in any language) to the choice's value. Typed text is the choice it names:
    all of it ("Zu klein"), or (``within``) a sentence around one ("sind mir zu klein", "they're too small"),
    whole words only; a message naming two choices ("not too small, too big") is none."""
    wanted = fold(text)
    for value in slot.values:
        if fold(str(value)) == wanted:
            return Answer(True, value)
    if wanted in titles:
        return Answer(True, titles[wanted])
    if not within:
        return NO
    named = named_choices(text, slot, titles, language=language)
    return Answer(True, *next(iter(named.items()))) if len(named) == 1 else NO


def named_choices(
    text: str, slot: SlotDef, titles: dict[str, Any], *, language: str | None = None
) -> dict[Any, tuple[int, int]]:
    """The choices ``text`` names as whole words (by value or by a title), each with where its longest name is;
    only names of at least NAMED_CHOICE_LETTERS letters count (a character of a script without spaces counts
    two: "No" or "OK" in a sentence is too common a word to be a choice), and
    none a negation in ``language`` (any, without one) comes just before in its clause ("not high")."""
    folded, origin = folded_with_offsets(text, _fold_character)
    spans: dict[Any, tuple[int, int]] = {}
    for name, value in {**{fold(str(value)): value for value in slot.values}, **titles}.items():
        length = len(name) * (2 if UNSPACED.search(name) else 1)
        match = _whole_words(name).search(folded) if length >= NAMED_CHOICE_LETTERS else None
        if match is not None and not negated(folded[: match.start()], language):
            start, end = origin[match.start()], origin[match.end() - 1] + 1
            if value not in spans or end - start > spans[value][1] - spans[value][0]:
                spans[value] = (start, end)
    return spans


@functools.lru_cache(maxsize=8192)
def _fold_character(character: str) -> str:
    """One character as :func:`fold` folds it, a space kept as it is (a name's words may stand apart)."""
    return accent_fold(character.casefold())


@functools.lru_cache(maxsize=4096)
def _whole_words(name: str) -> re.Pattern[str]:
    """A folded title as whole words, any spaces between them; in scripts without spaces, anywhere."""
    words = r"\s+".join(map(re.escape, name.split()))
    return re.compile(words if UNSPACED.search(name) else rf"(?<!\w){words}(?!\w)")


def read_answer(
    text: str,
    slot: SlotDef,
    *,
    titles: dict[str, Any] | None = None,
    intent: str | None = None,
    typed: bool = True,
    language: str | None = None,
) -> Answer:
    """Try to read a value of ``slot``'s type from ``text`` (``typed``: by the customer, not a button's payload)."""
    text = text.strip()
    if not text:
        return NO
    kind = slot.type
    if kind == "number":
        return read_number(text, slot)
    if kind == "email":
        match = _EMAIL.search(text)
        return Answer(True, match.group(0).lower(), match.span()) if match else NO
    if kind == "phone":  # read as the NLU reads it: not a date ("13.05.2030"), 7 to 15 digits
        phone = find_phone(text)
        return Answer(True, phone[0], phone[1]) if phone else NO
    if kind == "time" and (bare := _BARE_HOUR.fullmatch(text)):
        return Answer(True, _hour_of_the_day(bare.group("hour")), (0, len(text)))
    if kind in ("date", "time"):  # typed as the normal form; words ("tomorrow") come from the NLU's entity
        found = to_date(text) if kind == "date" else to_time(text)
        if found is None and kind == "time" and (part := part_of_day_hour(text)):
            return Answer(True, f"{part[0]:02d}:00", part[1])  # "in the morning", "mittags", "上午"
        return Answer(True, found[0], found[1]) if found else NO
    if kind == "money":  # digits alone are an amount in the slot's currency; "50 €" comes from the NLU's entity
        number = read_number(text, slot)
        return Answer(True, to_money(None, number.value, slot.currency), number.span) if number.ok else NO
    if kind == "regex":
        return read_regex(text, slot)
    if kind == "choice":
        return read_choice(text, slot, titles or {}, within=typed, language=language)
    if kind == "bool":
        folded = _SKIN_TONES.sub("", fold(text))
        if titles and isinstance(titles.get(folded), bool):  # a choice's title typed ("Another order")
            return Answer(True, titles[folded])
        said = named_choices(text, slot, titles, language=language) if titles else {}
        named = [(value, span) for value, span in said.items() if isinstance(value, bool)]
        if len(named) == 1:  # a sentence around one ("no, otro pedido": another order, not the order's status)
            return Answer(True, *named[0])
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
    if slot.type == "choice":  # a value given as such is one of the choices exactly ("super high" is not "high")
        return read_choice(str(value), slot, {}, within=False)
    return read_answer(str(value), slot)
