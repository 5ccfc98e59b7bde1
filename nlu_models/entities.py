"""Entities in a message: the bot's own (regex and lookup lists in YAML) and built-ins every shop needs.

Built-ins: ``number`` (in digits, or in words: number_words.py), ``email`` (also written
"anna(at)example.com" or "anna at example dot com": written_emails.py), ``date`` and ``time``
("tomorrow", "next Friday", "morgen um 10" as ISO 8601: dates.py), ``phone``, ``money`` ({amount, currency}),
``shoe_size`` (a size after a size word in any of our languages, "42 码"),
``order_number`` (letters, optional dash, digits: "st-123456" -> "ST-123456").
Where matches overlap, the bot's own entities win, then the more specific
built-in (an order number is not also a phone number, "size 42" not also a
plain number). A slot with the entity's name is filled from it.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bots.types import Entity
from nlu_models.accents import fold, folded_with_offsets
from nlu_models.base import EntitySpec, TrainingData
from nlu_models.dates import FoundDate, find_dates
from nlu_models.entity_words import CURRENCIES, SIZE_WORDS, UNSPACED, negated
from nlu_models.number_words import find_number_words
from nlu_models.phones import PHONE, phone_value
from nlu_models.written_emails import PLAIN_EMAIL, find_written_emails

# 1.299,99 and 1,299.99 and 1 299 (groups of three, any of our languages' separators), or 12.5, or 42; a
# number starts only where a run of digits starts, so a long run of digits is read once, not once per digit
# (at most five groups: a run of "123 123 123 ..." is then read in linear time, not once per group to its end)
_NUMBER = (
    r"(?<!\d)(?<!\d[.,])(?:\d{1,3}(?:(?:[.,]|[ \u00a0\u202f](?=\d{3}(?!\d)))\d{3}){1,5}(?:[.,]\d{1,2})?"
    r"|\d+(?:[.,]\d+)?)"
)
_CURRENCY = "|".join(sorted((re.escape(c) for c in CURRENCIES), key=len, reverse=True))


def _to_number(text: str) -> int | float:
    """ "1.299,99", "1,299.99", "1 299", "500.000" (a lone separator before three digits groups thousands),
    "43,5", "12.5"."""
    text = re.sub(r"[ \u00a0\u202f]", "", text)
    separators = re.findall(r"[.,]", text)
    if separators:
        last = max(text.rfind("."), text.rfind(","))
        grouping = (
            len(separators) > 1
            and len(set(separators)) == 1
            or (len(separators) == 1 and len(text) - last - 1 == 3 and text[:last] != "0")
        )  # 0,500 is a half
        if grouping:
            text = re.sub(r"[.,]", "", text)
        else:  # the last separator is the decimal point; any other groups thousands
            text = re.sub(r"[.,]", "", text[:last]) + "." + text[last + 1 :]
    value = float(text)
    return int(value) if value.is_integer() else value


_fold_character = functools.lru_cache(maxsize=8192)(fold)  # every message is folded letter by letter


@dataclass(frozen=True)
class _Rule:
    name: str
    pattern: re.Pattern[str]
    value: Callable[[re.Match[str]], Any]
    rank: int  # lower wins an overlap
    needs: re.Pattern[str] | None = None  # what a text must hold for the rule to match at all (a cheap test first)


_DIGIT = re.compile(r"\d")  # every built-in but the e-mail address reads digits; most chat has none
_AT = re.compile("@")


def _money(match: re.Match[str]) -> dict[str, Any]:
    currency = (match.group("before") or match.group("after") or "").lower()
    amount = match.group("amount") or match.group("amount2")
    return {"amount": _to_number(amount), "currency": CURRENCIES.get(currency, currency.upper())}


# Romanian puts "de" between a number from twenty up and what it counts: "cincizeci de lei", "50 de lei"
_OF = r"(?:\s?de(?=\s))?"
# the end of an amount: no letter or digit next, but a Chinese character may be ("50元的鞋", no spaces)
_END = r"(?![^\W\u3000-\u9fff])"
_CURRENCY_AFTER = re.compile(rf"{_OF}\s?(?P<currency>{_CURRENCY}){_END}", re.IGNORECASE)
_LONGEST_CURRENCY = max(map(len, CURRENCIES))
_CURRENCY_BEFORE = re.compile(rf"(?<!\w)(?P<currency>{_CURRENCY})\s?$", re.IGNORECASE)


def _money_in_words(text: str, start: int, end: int, amount: int | float) -> Entity | None:
    """A number in words next to a currency ("zwanzig Euro", "vingt-deux euros", "hai mươi đồng"): money."""
    if after := _CURRENCY_AFTER.match(text, end):
        currency, end = after.group("currency"), after.end()
    elif before := _CURRENCY_BEFORE.search(text, max(0, start - _LONGEST_CURRENCY - 1), start):
        currency, start = before.group("currency"), before.start()
    else:
        return None
    value = {"amount": amount, "currency": CURRENCIES.get(currency.lower(), currency.upper())}
    return Entity("money", value, start, end, "words")


BUILT_INS: tuple[_Rule, ...] = (
    _Rule(
        "order_number",
        re.compile(r"(?<![\w-])([A-Za-z]{1,4})-?(\d{5,10})(?![\w-])"),
        lambda m: f"{m.group(1).upper()}-{m.group(2)}",
        10,
        _DIGIT,
    ),
    _Rule(
        "email",
        PLAIN_EMAIL,
        lambda m: m.group(0).lower(),
        11,
        _AT,
    ),
    _Rule(
        "money",
        re.compile(
            rf"(?:(?P<before>{_CURRENCY})\s?(?P<amount>{_NUMBER})|(?P<amount2>{_NUMBER}){_OF}\s?"
            rf"(?P<after>{_CURRENCY})){_END}",
            re.IGNORECASE,
        ),
        lambda m: _money(m),
        12,
        _DIGIT,
    ),
    _Rule("phone", PHONE, phone_value, 13, _DIGIT),
    _Rule(
        "shoe_size",
        re.compile(
            r"(?:(?<!\w)(?:" + "|".join(re.escape(w) for w in SIZE_WORDS) + r")\.?:?\s*"
            r"(?P<size>\d{1,2}(?:[.,]5)?)(?![\d.,]?\d)"  # size 42, size 9, Größe 43,5
            # 42码, 42号; 号 after 1 to 27 is a day ("15号打电话": the 15th), and after 28 to 31 when a time or a
            # call follows ("30号下午3点"); a kids' size otherwise ("我要30号")
            r"|(?<![\d.,月])(?:(?P<size2>\d{1,2}(?:[.,]5)?)\s*码|(?P<size6>(?:2[89]|3\d|[45]\d)(?:[.,]5)?)\s*号"
            r"(?!\s*(?:上午|下午|晚上|早上|中午|\d|[一二三四五六七八九十两]+[点點]|打|给|回电|那天|之前|以前)))"
            # 42 EU; 9 US and UK 8 in capitals ("call 2 us" is not a size), not money
            r"|(?<![\w.,])(?P<size3>[345]\d(?:[.,]5)?)\s?eu(?!\w)"
            r"|(?<![\w.,])(?P<size4>(?:1[0-5]|[1-9])(?:[.,]5)?)\s?(?-i:US|UK)(?!\w)"
            r"(?!\s*(?:\$|£|dollars?|pounds?|gbp|usd))"
            r"|(?<!\w)(?-i:US|UK)\s?(?P<size5>(?:1[0-5]|[1-9])(?:[.,]5)?)(?![\d.,]?\d)"
            # "I'll take them in 43", "je les prends en 44", "en la 42", "nel 42": 32 to 49 closing the sentence
            # or "for" someone ("in 30 days", "pe 30" the 30th, are not sizes)
            r"|(?<!\w)(?:in|en(?:\s+la)?|nel|im|no|na|em|w|pe|în|op)\s+(?P<size7>(?:3[2-9]|4\d)(?:[.,]5)?)"
            r"(?=\s*(?:[.!?,;)]|please|pls|bitte|s'il vous plaît|por favor|per favore|proszę|alstublieft"
            r"|for|für|pour|para|per|voor|dla|pentru|cho|$)))",
            re.IGNORECASE,
        ),
        lambda m: _to_number(
            next(g for g in m.group("size", "size2", "size3", "size4", "size5", "size6", "size7") if g)
        ),
        14,
        _DIGIT,
    ),
    _Rule("number", re.compile(rf"(?<![\w.,]){_NUMBER}(?!\w|[.,]\d)"), lambda m: _to_number(m.group(0)), 20, _DIGIT),
)


def _day_info(found: FoundDate) -> dict[str, bool] | None:
    """A time of day said without its day ("at 3pm") is marked so: its date is only the next one it comes on, no
    answer to "which day?"."""
    return None if found.day_said else {"day_said": False}


def _lookup_patterns(values: dict[str, str]) -> list[re.Pattern[str]]:
    """Whole words for texts written with spaces ("torn" is not in "retorno"); anywhere for those in scripts
    without spaces ("开胶"): two patterns, so one Chinese entry does not drop the word boundaries of the rest."""
    by_length = sorted(values, key=len, reverse=True)
    spaced = "|".join(re.escape(t) for t in by_length if not UNSPACED.search(t))
    unspaced = "|".join(re.escape(t) for t in by_length if UNSPACED.search(t))
    word = rf"(?!{UNSPACED.pattern})\w"  # a Chinese character next to a name is no word of it: "买kids sprint"
    patterns = [re.compile(rf"(?<!{word})(?:{spaced})(?!{word})")] if spaced else []
    return patterns + ([re.compile(unspaced)] if unspaced else [])


class EntityExtractor:
    def __init__(self, entities: tuple[EntitySpec, ...]) -> None:
        self._rules: dict[str | None, list[_Rule]] = {}
        self._lookups: dict[str | None, list[tuple[str, re.Pattern[str], dict[str, str]]]] = {}
        for entity in entities:
            rules = self._rules.setdefault(entity.language, [])
            rules += [_Rule(entity.name, re.compile(p, re.IGNORECASE), _group_or_all, 0) for p in entity.patterns]
            if entity.lookup:
                values = {fold(text): value for text, value in entity.lookup}
                for pattern in _lookup_patterns(values):
                    self._lookups.setdefault(entity.language, []).append((entity.name, pattern, values))

    @classmethod
    def for_bot(cls, bot: TrainingData) -> EntityExtractor:
        return cls(bot.entities)

    def extract(self, text: str, language: str | None, now: datetime | None = None) -> tuple[Entity, ...]:
        """The entities in ``text``; relative dates ("tomorrow") count from ``now``, by default the local time."""
        found: list[tuple[int, int, int, Entity]] = []  # rank, start, end
        found += [
            (11, e.start, e.end, Entity("email", e.value, e.start, e.end, "regex")) for e in find_written_emails(text)
        ]
        for number in find_number_words(text, language):
            found.append(
                (19, number.start, number.end, Entity("number", number.value, number.start, number.end, "words"))
            )
            if money := _money_in_words(text, number.start, number.end, number.value):
                found.append((12, money.start or 0, money.end or 0, money))
        for rule in (*self._rules.get(None, ()), *self._rules.get(language, ()), *BUILT_INS):
            if rule.needs is not None and rule.needs.search(text) is None:
                continue
            for match in rule.pattern.finditer(text):
                if match.group(0).strip() and (value := rule.value(match)) is not None:
                    found.append(
                        (
                            rule.rank,
                            match.start(),
                            match.end(),
                            Entity(rule.name, value, match.start(), match.end(), "regex"),
                        )
                    )
        # a phone number, an e-mail address or an order number is never part of a date: dateparser would
        # read "tomorrow at 10am on +49 170 1234567" as one day and lose the hour, so it gets them blanked out
        not_dates = [(start, end) for _, start, end, entity in found if entity.entity in _NOT_DATES]
        found += [
            (15, d.start, d.end, Entity(d.name, d.value, d.start, d.end, "dateparser", additional_info=_day_info(d)))
            for d in find_dates(_blanked(text, not_dates), language, now)
        ]
        folded, origin = folded_with_offsets(text, _fold_character)
        for name, pattern, values in (*self._lookups.get(None, ()), *self._lookups.get(language, ())):
            for match in pattern.finditer(folded):
                if negated(folded[: match.start()], language):
                    continue  # "not urgent" names no priority, least of all the high one
                start, end = origin[match.start()], origin[match.end() - 1] + 1
                while end < len(text) and not _fold_character(text[end]):  # a combining accent: its letter's
                    end += 1
                found.append((1, start, end, Entity(name, values[match.group(0)], start, end, "lookup")))
        # Best first (rank, then longer, then earlier); a match overlapping one already kept is dropped. The
        # kept spans never overlap, so sorted by start, a new span only needs checking against its neighbours.
        spans: list[tuple[int, int]] = []
        kept: dict[int, Entity] = {}
        for _, start, end, entity in sorted(found, key=lambda f: (f[0], f[1] - f[2], f[1])):
            at = bisect.bisect_left(spans, (start, end))
            if (at > 0 and spans[at - 1][1] > start) or (at < len(spans) and spans[at][0] < end):
                continue
            spans.insert(at, (start, end))
            kept[start] = entity
        return tuple(kept[start] for start, _ in spans)


_NOT_DATES = frozenset({"phone", "email", "order_number"})


def _blanked(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with each span a mark then spaces: the same length, so what is found keeps its offsets, and the
    mark ends the phrase before it (blanks alone make "mail me at anna@example.com tomorrow" read "at tomorrow",
    which dateparser does not take for a day)."""
    for start, end in spans:
        text = text[:start] + ";" + " " * (end - start - 1) + text[end:]
    return text


def _group_or_all(match: re.Match[str]) -> str:
    """A declared regex's first group that took part (what to keep; "(a)|(b)" has two), else the whole match."""
    return next((group for group in match.groups() if group is not None), match.group(0))
