"""Dates and times written the way dateparser reads them: "um 10" as "um 10:00", "下午3点半" as "15:30", "下周五" as
"星期五", "5月12日" as "12 5月", Romanian "vinerea" as "vineri"; each character keeps where in the message it came
from, so an entity's span is in the message. And which hour a bare one is ("at 5", "tomorrow at 3"): from 1 to 6
the afternoon, from 7 to 11 the morning, unless the message says otherwise.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta

from nlu_models.day_parts import MORNING, later_in_day
from nlu_models.number_words import chinese_under_hundred

# A word for "about" before an hour ("around 2", "gegen 3", "sobre las 6 de la tarde"): an hour only when no word
# follows it or one that goes with an hour (a part of the day, "o'clock", a day)
_ABOUT = (
    r"at around|at about|around|about|approx\.?|approximately|roughly|so gegen|gegen|etwa um|ungefähr um|ca\.|"
    r"vers les|vers|aux alentours de|sobre las|sobre la|hacia las|hacia la|a eso de las|verso le|verso l'|verso|"
    r"intorno alle|omstreeks|rond|około|okolo|koło|kolo|por volta das|por volta da|lá pelas|pelas|pe la ora|"
    r"pe la|în jur de|in jur de|khoảng|khoang|tầm|tam"
)
_WITH_AN_HOUR = (
    r"(?:[ap]\.?m\.?|o'?clock|uhr|uur|h|heures?|giờ|gio|in the|de la|del|di|du|de|da|des|'s|"
    r"nachmittags?|abends?|morgens|vormittags?|früh|po|rano|wieczorem|dimineața|dimineata|seara|după|dupa|sáng|sang|"
    r"chiều|chieu|tối|toi|tomorrow|today|morgen|heute|demain|mañana|manana|domani|amanhã|amanha|jutro|mâine|"
    r"maine|please|pls|bitte|then|ok)(?!\w)"
)
# A word for "at" before an hour, in our languages, then the hour and a word for "o'clock" (kept in the span)
_AT_HOUR = re.compile(
    r"(?<!\w)(?:(?P<at>at|um|om|à|a las|a la|alle|all'|às|as|o|la ora|la|lúc|vào lúc|luc|vao luc)"
    rf"|(?P<about>{_ABOUT}))\s+(?P<hour>[012]?\d)"
    r"(?:[:h.](?P<minute>[0-5]\d))?(?P<oclock>\s*(?:uhr|uur|h|heures?|horas?|ore|giờ|gio|godz(?:ina|\.)?)(?!\w))?"
    r"(?![\w:.,]?\d)"
    # "about 2 orders", "in about 2 hours", "în jur de 2 ore", "khoảng 2 giờ nữa" are no hour
    rf"(?(about)(?!\s+(?!{_WITH_AN_HOUR})[^\W\d])(?<!ore)(?<!horas)(?!\s*(?:nữa|nua)(?!\w)))"
    # "a las 10 y media", "à 10 heures et demie", "alle 10 e mezza", "às 10 e meia", "la 10 și jumătate",
    # "lúc 10 giờ rưỡi", and the quarter past: the minutes, which dateparser would drop ("10 y media" is 10:00)
    r"(?:\s*(?P<half>y media|et demie|e mezz[ao]|e meia|și jumătate|si jumatate|rưỡi|ruoi)(?!\w)"
    r"|\s*(?P<quarter>y cuarto|et quart|e un quarto|e um quarto|și un sfert|si un sfert)(?!\w))?",
    re.IGNORECASE,
)
# An hour with its word for "o'clock" but no word for "at" ("10 uhr", "10h30", "9 giờ sáng", "3 giờ chiều"), in
# the languages where that word means nothing else: Vietnamese "2 giờ nữa" and French "dans 2h" are durations,
# which dateparser reads as in 2 hours (so "9 giờ sáng" was 06:00 when written at 21:00)
_HOUR_WORDS = {"de": "uhr", "fr": "h", "vi": "giờ|gio"}
_AT_WORDS = {"de": "um", "fr": "à", "vi": "lúc"}
# the word for "at" an hour written for a word for "about" ("gegen 3" as "um 15:00"), as dateparser reads it
_AT_WORD = {**_AT_WORDS, "es": "a las", "it": "alle", "nl": "om", "pl": "o", "pt": "às", "ro": "la", "en": "at"}
_HOUR_WITH_WORD = {
    language: re.compile(
        rf"(?<![\w:.])(?<!\bdans )(?<!\ben )(?<!\btrong )(?P<hour>[01]?\d|2[0-3])\s*(?:{word})"
        rf"(?:\s*(?P<minute>[0-5]\d)|\s+(?P<half>rưỡi|ruoi))?(?![\w:])"
        rf"(?:\s+(?P<part>sáng|sang|trưa|trua|chiều|chieu|tối))?(?!\s*(?:nữa|nua|sau|tới|lang|plus tard)(?!\w))",
        re.IGNORECASE,
    )
    for language, word in _HOUR_WORDS.items()
}
_VI_LATER_PARTS = ("chiều", "chieu", "tối")
# "half past 3" (English), "um halb 4" and "om half 4" (German and Dutch: half an hour before 4, 3:30)
_HALF_PAST = re.compile(r"(?<!\w)half past\s+(?P<hour>1[0-2]|0?[1-9])(?![\w:.,]?\d)", re.IGNORECASE)
_HALF_BEFORE = re.compile(
    r"(?<!\w)(?P<at>um|om)?\s*(?:halb|half)\s+(?P<hour>1[0-2]|0?[1-9])(?![\w:.,]?\d)", re.IGNORECASE
)
# 上午10点, 下午3点半, 晚上8点: the hour of the day
_ZH_HOUR = re.compile(
    r"(?P<part>上午|早上|中午|下午|晚上)?(?P<hour>[012]?\d|十[一二]?|[一二三四五六七八九两兩])[点點]"
    r"(?P<half>半|(?P<minute>[0-5]?\d)分)?"
)
_LATER_HALF = ("下午", "晚上")
_DIGIT = re.compile(r"\d")
_CHINESE = re.compile(r"[\u3000-\u9fff]")  # every character the Chinese rewrites look for is in this block
# particles that end a Chinese sentence ("下午3点吧", "明天吗"): dateparser finds no time right before them
_ZH_PARTICLES = re.compile(r"[吧呢啊吗嘛哦呀]+(?=[\s。！？!?.]*$)")
# 下周五, 这周五 ("next/this Friday"): dateparser reads 星期五 but takes 下周 for "in a week"
_ZH_WEEKDAY = re.compile(r"[下这這本](?:周|週|礼拜|禮拜)(?=[一二三四五六日天])")
# 5月12日, 5月12号 (a month and a day, no year): dateparser reads "12日" as "in 12 days", but "12 5月" right
_ZH_MONTH_DAY = re.compile(r"(?<![\d年])(?P<month>1[0-2]|0?[1-9])月(?P<day>[0-3]?\d)[日号號]")
# Romanian weekdays with the article ("vinerea viitoare", next Friday), which dateparser does not know; Monday
# as "lun": dateparser takes "luni" for months too, and then finds no date in "luni viitoare"
_RO_WEEKDAYS = {
    "lunea": "lun",
    "luni": "lun",  # only before "viitoare"
    "marțea": "marți",
    "marţea": "marți",
    "martea": "marți",
    "miercurea": "miercuri",
    "joia": "joi",
    "vinerea": "vineri",
    "sâmbăta": "sâmbătă",
    "sambata": "sâmbătă",
    "duminica": "duminică",
}
_RO_WEEKDAY = re.compile(
    rf"(?<!\w)(?:luni(?=\s+viitoare)|{'|'.join(w for w in _RO_WEEKDAYS if w != 'luni')})(?!\w)", re.IGNORECASE
)


def _zh_hour(match: re.Match[str]) -> int:
    written = match.group("hour")
    return int(written) if written.isdigit() else chinese_under_hundred(written)  # 三点, 十一点


def _a_little(match: re.Match[str]) -> bool:
    """一点 alone is "a little" ("我一点也不喜欢"), not one o'clock: only with a part of the day, a half or minutes,
    or 钟 after it."""
    after = match.string[match.end() : match.end() + 1]
    return match.group("hour") == "一" and not match.group("part") and not match.group("half") and after != "钟"


def _bare_hours(text: str, begin: int = 0, finish: int | None = None) -> Iterator[tuple[re.Match[str], int]]:
    """Each hour in ``text`` said with no word for "o'clock" and no part of the day ("at 5", "half past 3", "um
    halb 4" (3), "3点"), with the hour it names: one a 12-hour clock may show in the morning or the afternoon."""
    end = len(text) if finish is None else finish
    for match in _AT_HOUR.finditer(text, begin, end):
        if not match.group("oclock"):
            yield match, int(match.group("hour"))
    for pattern, before in ((_HALF_PAST, 0), (_HALF_BEFORE, 1)):
        for match in pattern.finditer(text, begin, end):
            yield match, int(match.group("hour")) - before
    for match in _ZH_HOUR.finditer(text, begin, end):
        if not match.group("part"):
            yield match, _zh_hour(match)


def bare_hour(text: str, begin: int, finish: int) -> int | None:
    """The hour, from 1 to 11, when ``text[begin:finish]`` is only an hour after a word for "at" ("at 5", "um
    10"): no day, no "am" or "pm", no "下午", no word for "o'clock" (``afternoon_hour`` says which it is). With the
    word ("um 10 Uhr", "à 10h") it is on a 24-hour clock, the way those languages write hours."""
    for match, hour in _bare_hours(text, max(0, begin - 12), finish):
        if match.start() <= begin and finish <= match.end() and 1 <= hour <= 11:
            return hour
    return None


AFTERNOON_HOURS = range(1, 7)  # "tomorrow at 3": nobody books a call or a delivery at 3 in the night


def afternoon_hour(text: str, begin: int, finish: int) -> int | None:
    """The hour, from 1 to 6, of a bare hour ("at 3", "tomorrow at 3", "morgen um halb 4"): dateparser reads it on
    a 24-hour clock (03:00), though people mean the afternoon; None when the
    message says morning or am, or the hour is written with a word for "o'clock" ("morgen um 4 Uhr": 04:00) or
    a leading zero ("at 03:00")."""
    if MORNING.search(text):  # anywhere in the message: "tomorrow at 5 please, early morning is best"
        return None
    for match, hour in _bare_hours(text[begin:finish]):
        # "at 03:00": a leading zero is a 24-hour clock, as written
        if hour in AFTERNOON_HOURS and not match.group("hour").startswith("0"):
            return hour
    return None


def next_afternoon(when: datetime, now: datetime) -> datetime:
    """``when``'s time of day twelve hours later, the next time the clock shows it: a bare hour said alone ("at
    3", "三点") is read as with a day named, whatever the time now (at 20:00, "at 3" is 15:00 tomorrow, not 03:00;
    at noon, 15:00 today). A time asked apart from its day ("tomorrow afternoon", then "at 3") is read alone,
    so it must not depend on the hour the customer writes at; an hour from 7 to 11 stays the morning, as
    dateparser reads it (the next one), since "a las 10:30" written at 21:00 for a call tomorrow is no 22:30."""
    later = when.replace(year=now.year, month=now.month, day=now.day, hour=when.hour + 12)
    return later if later > now else later + timedelta(days=1)


def _of_day(match: re.Match[str], hour: int) -> int:
    """``hour`` on a 24-hour clock: 1 to 11 said with an afternoon or an evening ("a las 8 de la tarde") is 13
    to 23."""
    return hour + 12 if 1 <= hour <= 11 and later_in_day(match.string, match.start(), match.end()) else hour


def with_hours_written_out(text: str, language: str) -> tuple[str, list[int]]:
    """``text`` with hours as "10:00" (and Romanian weekdays without their article), and for each of its
    characters where in ``text`` it came from."""

    def at_hour(match: re.Match[str]) -> str:
        said = match.group("at") or _AT_WORD.get(language, "at")  # "around 2" as "at 14:00"
        at = "la" if said.lower() == "la ora" else said  # dateparser reads "la 10:00"
        minute = "30" if match.group("half") else "15" if match.group("quarter") else match.group("minute") or "00"
        return f"{at} {_of_day(match, int(match.group('hour')))}:{minute}"

    def hour_with_word(match: re.Match[str]) -> str:
        hour = _of_day(match, int(match.group("hour")))
        if (match.group("part") or "").lower() in _VI_LATER_PARTS and hour < 12:
            hour += 12  # "3 giờ chiều": 15:00
        minute = "30" if match.group("half") else match.group("minute") or "00"
        return f"{_AT_WORDS[language]} {hour}:{minute}"

    def half_past(match: re.Match[str]) -> str:
        return f"at {_of_day(match, int(match.group('hour')))}:30"

    def half_before(match: re.Match[str]) -> str:
        at = match.group("at") or ("om" if language == "nl" else "um")
        return f"{at} {_of_day(match, int(match.group('hour')) - 1 or 12)}:30"

    def zh_hour(match: re.Match[str]) -> str:
        if _a_little(match):
            return match.group(0)
        hour = _zh_hour(match)
        if match.group("part") in _LATER_HALF and hour < 12:
            hour += 12
        minute = "30" if match.group("half") == "半" else f"{int(match.group('minute') or 0):02d}"
        return f" {hour}:{minute} "  # spaced from filler after it ("下午3点吧"), which dateparser does not read

    # Only the rewrites that can match (an hour needs a digit; the Chinese ones Chinese characters), and no
    # rewrite adds either to a text that had none: most messages are spared a search with each pattern.
    digits = _DIGIT.search(text) is not None
    chinese = not text.isascii() and _CHINESE.search(text) is not None
    rewrites: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
        *(((_AT_HOUR, at_hour),) if digits else ()),
        *(((_ZH_HOUR, zh_hour),) if chinese else ()),
        *(
            (
                (_ZH_WEEKDAY, lambda _: "星期"),
                (_ZH_MONTH_DAY, lambda match: f"{int(match.group('day'))} {int(match.group('month'))}月"),
                (_ZH_PARTICLES, lambda match: " " * len(match.group(0))),
            )
            if chinese
            else ()
        ),
    )
    if language == "ro":
        rewrites += ((_RO_WEEKDAY, lambda match: _RO_WEEKDAYS[match.group(0).lower()]),)
    if digits and language in _HOUR_WITH_WORD:  # after "um 10 Uhr", "lúc 10 giờ": only those without "at" left
        rewrites += ((_HOUR_WITH_WORD[language], hour_with_word),)
    if digits and language == "en":
        rewrites = ((_HALF_PAST, half_past), *rewrites)
    elif digits and language in ("de", "nl"):
        rewrites = ((_HALF_BEFORE, half_before), *rewrites)
    text_now, origin_now = text, list(range(len(text)))
    for pattern, replace in rewrites:
        text_now, origin_now = rewritten(text_now, origin_now, pattern, replace)
    return text_now, origin_now


def rewritten(
    text: str, origin: list[int], pattern: re.Pattern[str], replace: Callable[[re.Match[str]], str]
) -> tuple[str, list[int]]:
    """``text`` with each match of ``pattern`` replaced, and for each character of the result where in the
    message it came from (``origin`` says it for ``text``)."""
    matches = list(pattern.finditer(text))
    if not matches:  # most messages: nothing to rewrite, nothing to copy
        return text, origin
    out: list[str] = []
    where: list[int] = []
    last = 0
    for match in matches:
        out.append(text[last : match.start()])
        where += origin[last : match.start()]
        replacement = replace(match)
        out.append(replacement)
        # the replacement stands for the whole match: from its first character to its last (the last but the
        # spaces after it, so a phrase that ends before them still ends where the match did)
        core = len(replacement.rstrip())
        where += [origin[match.start()]] * (core - 1) + [origin[match.end() - 1]] * (len(replacement) - core + 1)
        last = match.end()
    out.append(text[last:])
    where += origin[last:]
    return "".join(out), where


def _bare(text: str) -> str:
    """``text`` in lower case without accents, one character for each of its characters ("mañana" -> "manana")."""
    lower = text.lower()
    if lower.isascii():
        return lower
    return "".join(map(_bare_character, lower))


@functools.lru_cache(maxsize=4096)  # the letters of the languages in use; bounded against odd input
def _bare_character(character: str) -> str:
    base = "".join(c for c in unicodedata.normalize("NFD", character) if not unicodedata.combining(c))
    return base[:1] or character


def accents_table(words: Iterable[str]) -> tuple[re.Pattern[str], dict[str, str]] | None:
    """A pattern finding ``words`` written without their accents, and each word by its bare form: dateparser
    reads "mañana" and "ngày mai" only as written, while people type "manana" and "ngay mai"."""
    table: dict[str, str] = {}
    for word in words:
        word = unicodedata.normalize("NFC", word.lower())
        bare = _bare(word)
        if bare != word and len(bare) == len(word):
            table.setdefault(bare, word)
    if not table:
        return None
    alternatives = "|".join(re.escape(w) for w in sorted(table, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)"), table


def with_accents(text: str, table: tuple[re.Pattern[str], dict[str, str]] | None) -> str:
    """``text`` with the date words of ``table`` typed without accents written with them, each character where
    it was (an accented letter is one character, like the bare one), so spans in the result are spans in ``text``."""
    if table is None:
        return text
    pattern, words = table
    bare = _bare(text)
    if len(bare) != len(text):
        return text
    pieces: list[str] = []
    last = 0
    for match in pattern.finditer(bare):
        pieces += [text[last : match.start()], words[match.group(0)]]
        last = match.end()
    return "".join(pieces) + text[last:] if pieces else text
