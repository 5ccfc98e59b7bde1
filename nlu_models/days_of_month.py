"""A day of the month said alone ("on the 15th", "am 15.", "le 1er", "el día 15", "15号"), written as a date
dateparser reads: the next such day, this month or a later one. dateparser finds none of these (or reads "15日"
as "in 15 days"), and takes a day with a month for a day of this month even when it has passed ("on the 3rd at
10am", written on the 7th, was the 3rd of this month).

A number after an article is often no day ("le 38" is a shoe size, "el 15 %", "the 2nd pair"), so outside English
ordinals and German "am 15." the day counts only at the end of the message or before a word that goes with a
day: a word for "at", a part of the day, "please".
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime
from functools import cache

from nlu_models.date_rewrites import rewritten

_DAY = r"(?P<day>[12]\d|3[01]|0?[1-9])"
_DAY_AFTER_THE = _DAY.replace("day", "day_after_the")
_DAY_ON = _DAY.replace("day", "day_on")
# what may follow a day said with an article alone: nothing, punctuation, or a word that goes with a day
# (no "or": "il 2 o il 3" is a choice of two)
_THEN = {
    "en": r"at|around|about|in the|please|pls|then|would|works|is|if|morning|afternoon|evening|between|from"
    r"|after|before",
    "fr": r"à|a|vers|entre|dans la|le matin|matin|après-midi|apres-midi|l'après-midi|soir|svp|stp|s'il|plutôt|alors",
    "es": r"a las|a la|sobre las|hacia las|por la|en la|entre|después|despues|antes|porfa|por favor|mejor",
    "it": r"alle|all'|verso le|verso|di mattina|mattina|di pomeriggio|pomeriggio|sera|tra|per favore|grazie|meglio",
    "pt": r"às|as|por volta|de manhã|de manha|à tarde|a tarde|de tarde|entre|por favor|pode ser|melhor",
    "nl": r"om|rond|tussen|'s ochtends|'s middags|'s avonds|graag|alsjeblieft|dan",
    "ro": r"la ora|la|dimineața|dimineata|după-amiaza|dupa-amiaza|seara|între|intre|vă rog|va rog",
    "pl": r"o|około|okolo|rano|po południu|po poludniu|wieczorem|proszę|prosze",
    "de": r"um|gegen|zwischen|vormittags|nachmittags|morgens|abends|bitte|dann",
}
_END = r"(?=\s*(?:$|[,.!?;:)]|(?:{then})(?!\w)))"
_NOT_A_NUMBER = r"(?![\w:%€]|[.,]\d)"
# a day of one digit after an article needs a word that goes with a day after it: "je préfère le 2" is a choice
_NOT_ONE_DIGIT_ALONE = r"(?!0?\d\s*(?:$|[,.!?;:)]))"
# nouns an ordinal counts, not a day of ("my 3rd attempt", "the 2nd pair", "am 2. Tag", "zum 3. Mal")
_COUNTED = (
    r"one|ones|pair|pairs|time|times|try|tries|attempt|attempts|size|item|items|order|orders|option|model|colou?r|"
    r"shoe|shoes|email|e-mail|mail|message|call|floor|week|weeks|month|year"
)
_DE_COUNTED = r"tag|tage|mal|versuch|woche|monat|jahr|kilometer|km|platz|stock|lauf|paar|bestellung"
# the day with its word before it, and when that word alone does not make it a day, what may follow
_DAYS = {
    # "on the 15th", "by the 3rd", "the 15th", "15th."; not "the 2nd pair", "my 3rd attempt", "15th of May"
    "en": (
        rf"(?<!\w)(?:on|by|for|until|till|from|before|after)\s+(?:the\s+{_DAY}(?:st|nd|rd|th)?|{_DAY_ON}"
        rf"(?:st|nd|rd|th)){_NOT_A_NUMBER}(?!\s+(?:of\s+)?(?:{{months}}|{_COUNTED})(?!\w))"
        rf"|(?<!\w)(?:the\s+)?{_DAY_AFTER_THE}(?:st|nd|rd|th)(?!\w)" + _END
    ),
    "de": (
        rf"(?<!\w)(?:am|den|zum|bis zum|ab dem)\s+{_DAY}(?:\.|ten|ter)(?![\w.]|\s*\d)"
        rf"(?!\s+(?:{{months}}|(?-i:[A-ZÄÖÜ])\w*|{_DE_COUNTED})(?!\w))"
    ),
    "fr": rf"(?<!\w)(?:le|au|pour le)\s+{_NOT_ONE_DIGIT_ALONE}(?:{_DAY}|(?P<first>1er)){_NOT_A_NUMBER}" + _END,
    "es": rf"(?<!\w)(?:el|para el)\s+(?:d[ií]a\s+)?{_NOT_ONE_DIGIT_ALONE}{_DAY}{_NOT_A_NUMBER}" + _END,
    "it": rf"(?<!\w)(?:il|l'|per il)\s*{_NOT_ONE_DIGIT_ALONE}{_DAY}{_NOT_A_NUMBER}" + _END,
    "pt": rf"(?<!\w)(?:(?:no|para o)\s+)?dia\s+{_DAY}{_NOT_A_NUMBER}" + _END,
    "nl": (
        rf"(?<!\w)op\s+de\s+{_DAY}(?:e|ste|de)(?!\w)(?!\s+(?:{{months}})(?!\w))"
        rf"|(?<!\w)de\s+{_DAY_AFTER_THE}(?:e|ste|de)(?!\w)" + _END
    ),
    "ro": rf"(?<!\w)(?:pe|în|in)\s+{_NOT_ONE_DIGIT_ALONE}{_DAY}{_NOT_A_NUMBER}" + _END,
    "pl": rf"(?<!\w){_DAY}-?go(?!\w)",
    # not 3号线 (a metro line), 2号款 (a model), 5号楼 (a building)
    "zh": rf"(?<![\d月]){_DAY}[日号號](?![前后後内內线線款楼樓房门門车車床机機口码碼位人店柜包鞋])",
}


@cache
def _pattern(language: str) -> re.Pattern[str] | None:
    written = _DAYS.get(language)
    if written is None:
        return None  # Vietnamese "ngày 15" dateparser reads
    then = _THEN.get(language, "")
    return re.compile(written.replace("{months}", _months(language)).replace("{then}", then), re.IGNORECASE)


@cache
def _months(language: str) -> str:
    """dateparser's names of the months in ``language``, as alternatives of a pattern."""
    from dateparser.languages.loader import default_loader

    info = default_loader.get_locale(language).info
    names = {w.lower() for key in calendar.month_name[1:] for w in info.get(key.lower(), ()) if len(w) >= 3}
    return "|".join(sorted(map(re.escape, names), key=len, reverse=True)) or r"(?!)"


def next_day_of_month(day: int, today: date) -> date:
    """The next date (today counts) that is the ``day`` of its month: "the 3rd" on the 7th is next month's."""
    year, month = today.year, today.month
    if day < today.day:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    while day > calendar.monthrange(year, month)[1]:  # "the 31st" in a month of 30 days: the next with one
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return date(year, month, day)


def with_days_of_month_written_out(text: str, origin: list[int], language: str, now: datetime) -> tuple[str, list[int]]:
    """``text`` with each day of the month said alone written as its date ("15.01.2027", in Chinese "2027年1月15日"),
    and for each character where in the message it came from."""
    pattern = _pattern(language)
    if pattern is None or not any(c.isdigit() for c in text):
        return text, origin

    def written(match: re.Match[str]) -> str:
        groups = match.groupdict()
        if groups.get("first"):
            day = 1
        else:
            day = int(next(groups[name] for name in ("day", "day_on", "day_after_the") if groups.get(name)))
        if _after_month(language, match.string[max(0, match.start() - 16) : match.start()]):
            return match.group(0)  # "on May 15th": dateparser reads a month and its day
        if language == "pl" and _before_month(language, match.string[match.end() : match.end() + 24]):
            return str(day)  # "20-go stycznia": the day of that month, as dateparser reads "20 stycznia"
        when = next_day_of_month(day, now.date())
        if language == "zh":
            return f" {when.year}年{when.month}月{when.day}日 "
        return f"{when.day:02d}.{when.month:02d}.{when.year}"

    return rewritten(text, origin, pattern, written)


@cache
def _month_before(language: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w)(?:{_months(language)})\s*$", re.IGNORECASE)


def _after_month(language: str, before: str) -> bool:
    return _month_before(language).search(before) is not None


@cache
def _month_after(language: str) -> re.Pattern[str]:
    return re.compile(rf"\s+(?:{_months(language)})(?!\w)", re.IGNORECASE)


def _before_month(language: str, after: str) -> bool:
    return _month_after(language).match(after) is not None


def names_a_month(text: str, language: str) -> bool:
    """Whether ``text`` holds a month's name in ``language``."""
    return _any_month(language).search(text) is not None


@cache
def _any_month(language: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w)(?:{_months(language)})(?!\w)", re.IGNORECASE)
