"""A day and a month in digits without a year ("15/12", "15.12.", "15-12", English "12/15"), written with the year
of their next coming so dateparser reads them. Customers write a date this way far more often than with a year;
dateparser takes two numbers alone for a number or a fraction, and a call-back asked for "15/12" was refused.

Not every pair of numbers is a date: a fraction ("1/2"), a US size ("9.5"), a price ("12.50"), a time ("10.30"),
a range of days ("10-12 days"). So a pair needs a two-digit part, with a dot a closing dot ("1.5.") or two digits
each and a day no hour could be ("15.12"), a real day of a real month, and no unit after it.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, timedelta

from nlu_models.date_rewrites import rewritten

_PAIR = re.compile(r"(?<![\w./,:-])(?P<a>\d{1,2})(?P<sep>[./-])(?P<b>\d{1,2})(?P<dot>\.(?!\d))?(?![\w/-]|[.,]\d)")
_UNIT = re.compile(
    r"\s*(?:%|€|\$|£|eur|euros?|x|twice|times|mal|fois|veces|volte|keer|razy|vezes|ori|lần|uhr|uur|h|heures?|godz\w*|"
    r"working|business|years?|jahre?n?|ans|años|anni|jaar|lat|anos|ani|năm|岁|"
    r"days?|weeks?|hours?|mins?|minutes?|pairs?|tage?n?|wochen|stunden|paar|jours?"
    r"|semaines?|heures?|paires?|d[ií]as|semanas|horas|pares|giorni|settimane|ore|paia|dagen|weken|uur|dni"
    r"|tygodni|godzin|zile|săptămâni|perechi|ngày|tuần|giờ|đôi|天|周|小时|双)(?!\w)",
    re.IGNORECASE,
)
_RECENTLY = timedelta(days=60)
_YEAR_FIRST = frozenset({"zh"})  # "2026/12/15": Chinese writes no day-month pair


def with_days_and_months_completed(text: str, origin: list[int], language: str, now: datetime) -> tuple[str, list[int]]:
    """``text`` with each day and month in digits written as the next such date ("15.12.2026"), and for each
    character where in the message it came from."""
    if language in _YEAR_FIRST or not any(c in text for c in "./-"):
        return text, origin

    def written(match: re.Match[str]) -> str:
        when = _day_and_month(match, language, now.date())
        return match.group(0) if when is None else f"{when.day:02d}.{when.month:02d}.{when.year}"

    return rewritten(text, origin, _PAIR, written)


def _day_and_month(match: re.Match[str], language: str, today: date) -> date | None:
    a, b, sep = match.group("a"), match.group("b"), match.group("sep")
    if (a, sep, b) == ("24", "/", "7"):
        return None  # "reachable 24/7"
    if _UNIT.match(match.string, match.end()):
        return None  # "10-12 days", "15.12 €"
    day, month = int(a), int(b)
    if sep == "." and not match.group("dot") and (len(a) < 2 or len(b) < 2 or day <= 12):
        return None  # "9.5", "12.5", "10.30", "12.10": a size, a number, a time, where "15.12" and "1.5." are dates
    if sep != "." and len(a) < 2 and len(b) < 2:
        return None  # "1/2": a fraction
    if sep == "/" and month > 12 and day <= 12 and language == "en":
        day, month = month, day  # "12/15": the American order, when only it makes a date
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    # this year's, or the next one to come when this year's is long past ("15/01" in December); a day a few
    # weeks past stays past, for the bot to say so rather than book it a year ahead ("05/12" on the 8th)
    for year in range(today.year, today.year + 5):  # "29.02" may be years away
        if day <= calendar.monthrange(year, month)[1] and date(year, month, day) >= today - _RECENTLY:
            return date(year, month, day)
    return None  # "31.04": no such day
