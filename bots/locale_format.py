"""Amounts, days and times the way a locale writes them, with Babel (CLDR), never hand-made patterns: one way for
the bot's replies, its actions and the demo shop's pages, so the chat and the page agree.

A bot's language is its locale unless ``settings.locales`` names another (the demo's Portuguese is European:
``pt: pt_PT`` writes "50 €", where Babel's "pt" is Brazilian, "€ 50"). Pure (Babel only), so channels may use it.
"""

from __future__ import annotations

import copy
from datetime import date, time
from decimal import Decimal
from functools import cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time
from babel.numbers import format_decimal, parse_pattern


@cache
def babel_locale(name: str | None) -> Locale:
    """The Babel locale named ``name`` ("de", "pt_PT", "pt-PT"); English when Babel knows none by that name."""
    try:
        return Locale.parse((name or "en").replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def known_locale(name: str) -> bool:
    """Whether Babel (CLDR) has the locale ``name``: a setting naming another is a mistake to report."""
    try:
        Locale.parse(name.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return False
    return True


def money_text(amount: Decimal | int | float, currency: str | None, locale: str | None) -> str:
    """An amount in the locale's currency pattern, cents only when there are any ("€129", "4,95 €"); a plain
    number when there is no currency."""
    where = babel_locale(locale)
    value = Decimal(str(amount))
    if not currency:
        return str(format_decimal(value, locale=where))
    pattern = copy.copy(parse_pattern(where.currency_formats["standard"]))  # the locale's own is shared: copy
    if value == value.to_integral_value():
        pattern.frac_prec = (0, 0)
    return str(pattern.apply(value, where, currency=currency, currency_digits=False))


def long_date(day: date, locale: str | None) -> str:
    """A day as the locale writes it in full sentences: "December 8, 2026", "8. Dezember 2026", "2026年12月8日"."""
    return str(format_date(day, "long", locale=babel_locale(locale)))


def short_time(clock: time, locale: str | None) -> str:
    """A time of day as the locale writes it: "10:00 AM", "10:00"."""
    return str(format_time(clock, "short", locale=babel_locale(locale)))
