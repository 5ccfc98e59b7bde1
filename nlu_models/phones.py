"""Phone numbers in a message: what the NLU's ``phone`` entity and a question of type phone both read.

Kept apart from the entity extractor so the dialogue engine can read a typed phone number without importing
the date parser.
"""

from __future__ import annotations

import re

# 12.05.2024, 12/5/24, 2024-05-12, 2024/5/12: not phone numbers
_DATE = r"\d{1,2}[./-]\d{1,2}[./-]\d{2,4}(?![\d./-])|\d{4}[./-]\d{1,2}[./-]\d{1,2}(?![\d./-])"
PHONE = re.compile(r"(?<![\w+])(?<!\d[./-])(?!" + _DATE + r")\+?\d[\d\s()/.-]{5,}\d(?!\w)")


def phone_value(match: re.Match[str]) -> str | None:
    """The digits, with the + of an international number; fewer than 7 digits ("1/2 3/4") is no phone number."""
    digits = re.sub(r"\D", "", match.group(0))
    if not 7 <= len(digits) <= 15:
        return None
    return ("+" if match.group(0).lstrip().startswith("+") else "") + digits


def find_phone(text: str) -> tuple[str, tuple[int, int]] | None:
    """The first phone number in ``text`` (its digits, with the + of an international number) and its span; a
    date ("13.05.2030") or fewer than 7 digits is none."""
    for match in PHONE.finditer(text):
        if (value := phone_value(match)) is not None:
            return value, match.span()
    return None
