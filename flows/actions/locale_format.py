"""Prices and dates as the customer's language writes them, with Babel (CLDR), never hand-made patterns.

One way per language: the texts in ``texts/<language>.yml`` write their amounts the same way (a test checks).
"""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import parse_pattern

CURRENCY = "EUR"
LOCALES = {"pt": "pt_PT"}  # the demo's Portuguese texts are European Portuguese; else the language is the locale


def locale_of(language: str | None) -> Locale:
    """The Babel locale of a thread's language; English when it has none Babel knows."""
    try:
        return Locale.parse(LOCALES.get(language or "en", language or "en"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def money(amount: Decimal | int | float, language: str | None) -> str:
    """An amount in euros, in the locale's currency pattern: cents only when there are any ("€129", "4,95 €")."""
    locale = locale_of(language)
    value = Decimal(str(amount))
    pattern = copy.copy(parse_pattern(locale.currency_formats["standard"]))  # the locale's own is shared: copy
    if value == value.to_integral_value():
        pattern.frac_prec = (0, 0)
    return pattern.apply(value, locale, currency=CURRENCY, currency_digits=False)


def long_date(day: date, language: str | None) -> str:
    """A date as the locale writes it in full sentences: "December 8, 2026", "8. Dezember 2026", "2026年12月8日"."""
    return format_date(day, "long", locale=locale_of(language))
