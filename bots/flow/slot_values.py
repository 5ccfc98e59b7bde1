"""Values of the typed slots ``date``, ``time`` and ``money``: read, checked and stored one normal way, and shown
the way the thread's language writes them.

Stored normal (an ISO day "2026-12-11", a time "10:00", ``{"amount": 50, "currency": "EUR"}``) so conditions,
actions and stores see one form whatever the customer typed; shown with Babel (CLDR's patterns), never
hand-made ones, so "2026-12-11" reads "December 11, 2026" in English and "11. Dezember 2026" in German.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from bots.locale_format import long_date, money_text, short_time

_ISO_DAY = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?(?!\d)")
_CLOCK = re.compile(r"(?<![\d:.])([01]?\d|2[0-3])[:h.]([0-5]\d)(?![\d:]|\.\d)")  # "10:30", "9h15"; "13.05.2030" is none
TYPED = ("date", "time", "money")


def to_date(value: Any) -> tuple[str, tuple[int, int]] | None:
    """An ISO day from a date, a datetime or a text holding an ISO day or date and time, with where it stands."""
    if isinstance(value, datetime | date):
        text = value.isoformat()
        return text[:10], (0, len(text))
    match = _ISO_DAY.search(str(value))
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3])).isoformat(), match.span()
    except ValueError:
        return None


def to_time(value: Any) -> tuple[str, tuple[int, int]] | None:
    """A time of day "HH:MM" from a time, a datetime, an ISO date and time, or a clock in a text ("10:30", "9h15")."""
    if isinstance(value, datetime | time):
        return f"{value.hour:02d}:{value.minute:02d}", (0, len(str(value)))
    text = str(value)
    day = _ISO_DAY.search(text)
    if day is not None and day[4] is not None:
        return f"{day[4]}:{day[5]}", day.span()
    clock = _CLOCK.search(text)
    return (f"{int(clock[1]):02d}:{clock[2]}", clock.span()) if clock else None


def to_money(value: Any, number: int | float | None, currency: str | None) -> dict[str, Any] | None:
    """``{"amount", "currency"}`` from the money entity's value, or a bare ``number`` in the slot's ``currency``
    (None when it has none); an amount in another currency than the slot's is None."""
    amount = value.get("amount") if isinstance(value, dict) else None
    if isinstance(amount, int | float) and not isinstance(amount, bool):
        said = str(value["currency"]).upper() if value.get("currency") else currency
        return {"amount": amount, "currency": said} if currency in (None, said) else None
    return {"amount": number, "currency": currency} if number is not None else None


def shown(kind: str, value: Any, locale: str) -> str | None:
    """``value`` of a slot of type ``kind`` as ``locale`` writes it; None when it is not such a value."""
    try:
        if kind == "date" and (day := to_date(value)):
            return long_date(date.fromisoformat(day[0]), locale)
        if kind == "time" and (clock := to_time(value)):
            return short_time(time.fromisoformat(clock[0]), locale)
        if kind == "money" and isinstance(value, dict) and value.get("amount") is not None:
            return money_text(Decimal(str(value["amount"])), value.get("currency"), locale)
    except (ValueError, InvalidOperation):
        return None
    return None
