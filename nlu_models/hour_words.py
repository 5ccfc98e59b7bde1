"""Hours written as words after a word for "at" ("half past three", "so gegen halb vier", "a las cinco y media"):
written in digits, right-aligned in the word's place, so the hour rewrites (date_rewrites.py) read them and
every character stays where it was in the message. Chinese hours in words (三点) have their own pattern.
"""

from __future__ import annotations

import re
from functools import cache

from nlu_models.number_words import find_number_words

# the words after which a number from 1 to 12 may be an hour, per language ("as", "bis", "po" say other things
# too: "quero as duas cores", "bis zwei Wochen")
_BEFORE_HOUR = {
    "en": r"at|around|half past|quarter past|quarter to",
    "de": r"um|gegen|halb|um halb|viertel nach|viertel vor",
    "fr": r"à|vers",
    "es": r"a las|sobre las|hacia las",
    "it": r"alle|verso le",
    "pt": r"às|pelas",
    "nl": r"om|rond|half|tegen",
    "pl": r"o|około|okolo",
    "ro": r"la ora|pe la",
    "vi": r"lúc|luc|vào lúc|vao luc",
}
# and what follows an hour: the end, a mark, a word for "o'clock", its half or quarter, a part of the day, a day
# or "please" ("um zwei Bestellungen", "o dwie pary", "at three days from now" are no hours)
_AFTER_HOUR = re.compile(
    r"\s*(?:$|[,.!?;:)]|(?:o'?clock|uhr|heures?|h|horas?|ore|uur|godz\w*|giờ|gio|y media|y cuarto|et demie|"
    r"et quart|e mezz[ao]|e meia|e um quarto|e un quarto|și jumătate|si jumatate|rưỡi|ruoi|in the|de la|del|da|di|"
    r"du|am|pm|a\.m\.|p\.m\.|abends|morgens|nachmittags|vormittags|morgen|tomorrow|today|tonight|please|pls|"
    r"bitte|por favor|svp|s'il|per favore|proszę|prosze|vă rog|va rog|alsjeblieft|'s|rano|wieczorem|sáng|sang|"
    r"chiều|chieu|tối|toi)(?!\w))",
    re.IGNORECASE,
)


@cache
def _cue(language: str) -> re.Pattern[str] | None:
    words = _BEFORE_HOUR.get(language)
    return re.compile(rf"(?<!\w)(?:{words})\s+$", re.IGNORECASE) if words else None


def with_hour_words_as_digits(text: str, language: str) -> str:
    """``text`` with each hour written as a word after a word for "at" in digits, padded with spaces before
    them to the word's length ("at three" -> "at     3")."""
    cue = _cue(language)
    if cue is None or text.isdigit():
        return text
    pieces: list[str] = []
    last = 0
    for number in find_number_words(text, language):
        value = number.value
        if not (isinstance(value, int) and 1 <= value <= 12) or not cue.search(
            text[max(0, number.start - 16) : number.start]
        ):
            continue
        if not _AFTER_HOUR.match(text, number.end):
            continue
        digits = str(value)
        if len(digits) > number.end - number.start:
            continue
        pieces += [text[last : number.start], digits.rjust(number.end - number.start)]
        last = number.end
    return "".join(pieces) + text[last:] if pieces else text
