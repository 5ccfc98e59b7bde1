"""Dates and times in a message, relative ones too ("tomorrow", "next Friday", "morgen um 10", "明天上午10点").

dateparser reads them, in each of our languages, from the data it ships with (no download). It is imported on
the first message, not at start-up: it costs a few tenths of a second. Before it reads a message, an hour
written the way people say it ("um 10", "à 10h", "la ora 10", "lúc 10 giờ", "上午10点") is written as
"10:00", which dateparser reads in every language; a day and a time it finds apart ("ngày mai" ... "lúc
10:00") are joined (the rewriting: date_rewrites.py). A day only gives a ``date`` entity ("2026-12-07"), a
day with a time of day a ``time`` entity ("2026-12-07T10:00").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from nlu_models.date_rewrites import (
    accents_table,
    afternoon_hour,
    bare_hour,
    next_afternoon,
    with_accents,
    with_hours_written_out,
)
from nlu_models.days_and_months import with_days_and_months_completed
from nlu_models.days_of_month import names_a_month, with_days_of_month_written_out
from nlu_models.hour_words import with_hour_words_as_digits

# Weekdays whose name is under four letters and nothing else, so a date however far ahead (see _plausible)
_SHORT_WEEKDAYS = {"ro": frozenset({"lun", "joi"})}
_PAIRS_LANGUAGES = frozenset({"vi"})
_MAX_GAP = 12
_CONTEXT = 24  # characters read around a word that may belong to a date ("next" before "Friday")
_MAX_WINDOWS = 3
_MAX_WINDOW = 100  # characters between a day and a time of day found apart that still belong together


# today or tonight in words, which dateparser often leaves out of a time's phrase ("ce soir à 20h", "今晚8点")
_TODAY = re.compile(
    r"(?<!\w)(?:today|tonight|this (?:morning|afternoon|evening)|heute|heut|aujourd'hui|aujourd’hui|ce soir|ce matin|"
    r"cet après-midi|hoy|esta noche|esta tarde|esta mañana|oggi|stasera|stamattina|stanotte|vandaag|vanavond|"
    r"vanmiddag|vanochtend|vanmorgen|dziś|dzis|dzisiaj|hoje|esta noite|azi|astăzi|astazi|diseară|diseara|"
    r"hôm nay|hom nay|tối nay|toi nay|chiều nay|chieu nay|sáng nay|sang nay)(?!\w)|今天|今晚|今早|今日",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class FoundDate:
    start: int
    end: int
    name: str  # "date" or "time"
    value: str  # ISO 8601
    day_said: bool = True  # False: a time of day alone ("at 3pm"), whose day is only the next one it comes on


def find_dates(text: str, language: str | None, now: datetime | None = None) -> list[FoundDate]:
    """The dates and times ``text`` names, relative ones counted from ``now`` (by default the local time)."""
    if not text.strip() or language is None:
        return []
    now = now or datetime.now()  # one clock reading for the whole message
    spoken = with_hour_words_as_digits(text, language)  # the same length: every character where it was
    normal, origin = with_hours_written_out(spoken, language)
    normal = with_accents(normal, _accented_words(language))  # after: "la ora 10" is an hour, not "la oră"
    normal, origin = with_days_and_months_completed(normal, origin, language, now)  # before: "am 15.12." whole
    normal, origin = with_days_of_month_written_out(normal, origin, language, now)
    matches = [
        (start + offset, end + offset, when, has_time)
        for offset, window in _windows(normal, language)
        for start, end, when, has_time in _search(window, language, now)
    ]
    found: list[FoundDate] = []
    for start, end, when, has_time in _join_day_and_time(matches):
        begin, finish = origin[start], origin[end - 1] + 1
        if has_time and (hour := afternoon_hour(spoken, begin, finish)) and when.hour == hour:
            alone = bare_hour(spoken, begin, finish) == hour  # no day: the next afternoon, not the day read
            when = next_afternoon(when, now) if alone else when.replace(hour=hour + 12)
        if has_time:
            when = _past_month_end(when, now, normal[start:end], language)
            said = (
                (when.date() - now.date()).days not in (0, 1)
                or _TODAY.search(text) is not None  # "ce soir à 20h": dateparser's phrase is "à 20:00"
                or not _time_alone(normal[start:end], language, now)
            )
            found.append(FoundDate(begin, finish, "time", when.strftime("%Y-%m-%dT%H:%M"), said))
        else:
            found.append(FoundDate(begin, finish, "date", when.date().isoformat()))
    return found


def _time_alone(phrase: str, language: str, now: datetime) -> bool:
    """Whether ``phrase`` is a time of day without a day ("at 3pm", "15:00"): dateparser finds no day in it, and
    read a day later it is the same hour as many days after that day as after today. A weekday ("friday at 3pm")
    moves with the calendar, a relative day ("today at 3pm") is a day said. Unread: not alone, as before."""
    _search, _period_of, read = _parsers(language)
    if read(phrase, now, require_day=True) is not None:
        return False
    later = now + timedelta(days=1)
    first, second = read(phrase, now), read(phrase, later)
    if first is None or second is None:
        return False
    return (first.date() - now.date()) == (second.date() - later.date())


def _past_month_end(when: datetime, now: datetime, phrase: str, language: str) -> datetime:
    """dateparser's next "20:00" written on a month's last day after 20:00 is the 1st of the same month (in the
    past, or a year on in December): it is tomorrow's. A phrase naming a month ("December 1st at 8pm") is left."""
    last_day = (now + timedelta(days=1)).month != now.month
    if last_day and when.day == 1 and when.month == now.month and not names_a_month(phrase, language):
        tomorrow = now + timedelta(days=1)
        return when.replace(year=tomorrow.year, month=tomorrow.month, day=tomorrow.day)
    return when


def _windows(text: str, language: str) -> list[tuple[int, str]]:
    """The parts of ``text`` dateparser should read, with where each starts: around a time ("10:00"), a date
    in digits, or a word of dateparser's own for a month, a weekday, a unit of time or a relative day. Most
    messages have none, and this costs microseconds where dateparser's search costs milliseconds; a long
    message full of dates is read in its first few places only, so it costs no more than a short one."""
    cues = [*_DIGIT_DATE.finditer(text), *_date_words(language).finditer(text.lower())]
    spans: list[list[int]] = []
    for start, end in sorted((cue.start(), cue.end()) for cue in cues):
        start, end = max(0, start - _CONTEXT), min(len(text), end + _CONTEXT)
        if spans and start <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], end)
        elif len(spans) < _MAX_WINDOWS:
            spans.append([start, end])
        else:
            break
    return [(start, text[start:end]) for start, end in spans if end - start <= _MAX_WINDOW] or [
        (start, text[start : start + _MAX_WINDOW]) for start, _ in spans[:1]
    ]


_DIGIT_DATE = re.compile(
    r"(?<![\d:])\d{1,2}:\d{2}(?![\d:])|(?<![\d./-])\d{1,4}[./-]\d{1,2}[./-]\d{1,4}(?![./-]?\d)|\d\s?[ap]\.?m\b",
    re.IGNORECASE,
)
_CJK = re.compile(r"[\u3000-\u9fff]")
_DATE_KEYS = (
    *("january", "february", "march", "april", "may", "june", "july", "august", "september", "october"),
    *("november", "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
    *("year", "month", "week", "day", "hour", "minute"),
)


@cache
def _date_words(language: str) -> re.Pattern[str]:
    """dateparser's words for dates in ``language`` (its bundled locale data), as one pattern."""
    from dateparser.languages.loader import default_loader

    info = default_loader.get_locale(language).info
    words = {w.lower() for key in _DATE_KEYS for w in info.get(key, ()) if len(w) >= 3 or _CJK.search(w)}
    words |= {phrase.lower() for phrases in info.get("relative-type", {}).values() for phrase in phrases}
    spaced = sorted((w for w in words if not _CJK.search(w)), key=len, reverse=True)
    unspaced = sorted((w for w in words if _CJK.search(w)), key=len, reverse=True)
    alternatives = [rf"(?<!\w)(?:{'|'.join(map(re.escape, spaced))})(?!\w)"] if spaced else []
    alternatives += ["|".join(map(re.escape, unspaced))] if unspaced else []
    return re.compile("|".join(alternatives) or r"(?!)")


@cache
def _accented_words(language: str) -> tuple[re.Pattern[str], dict[str, str]] | None:
    """dateparser's accented words for dates in ``language`` ("mañana", "ngày mai", "mâine"), to find them
    typed without accents."""
    from dateparser.languages.loader import default_loader

    info = default_loader.get_locale(language).info
    words = [w for key in _DATE_KEYS for w in info.get(key, ()) if isinstance(w, str)]
    words += [phrase for phrases in info.get("relative-type", {}).values() for phrase in phrases]
    return accents_table(words)


def _search(text: str, language: str, now: datetime) -> list[tuple[int, int, datetime, bool]]:
    """dateparser's finds in ``text``: (start, end, when, whether a time of day was given), in text order."""
    search, period_of, read = _parsers(language)
    settings = _settings(language, now)

    def parse(phrase: str) -> datetime | None:
        return read(phrase, now)

    try:
        results = search(text, languages=[language], settings=settings) or []
    except Exception:
        return []
    found: list[tuple[int, int, datetime, bool]] = []
    at = 0
    for phrase, when in results:
        start = text.find(phrase, at)
        if start < 0 or not _plausible(phrase, when, now, language):
            continue
        end = start + len(phrase)
        has_time = period_of(phrase, now) == "time"
        if has_time:  # the words just before a time may name its day where the search missed it ("ngày mai")
            start, when = _day_before(text, max(at, start - _MAX_GAP), start, end, when, parse)
        found.append((start, end, when, has_time))
        at = end
        if len(found) >= _MAX_WINDOWS:
            break  # a message does not name more dates than that; reading each costs milliseconds
    if not found:
        found = _read_phrases(text, language, now, parse, period_of)
    return found


def _read_phrases(
    text: str,
    language: str,
    now: datetime,
    parse: Callable[[str], datetime | None],
    period_of: Callable[[str, datetime], str | None],
) -> list[tuple[int, int, datetime, bool]]:
    """What dateparser's search misses and its parser reads: a short answer as a whole ("ngày mai"), and in
    Vietnamese, whose relative days ("ngày mai", tomorrow) the search does not know, each pair of words; then a
    time or a date in digits alone (the search finds no "16:00" after Chinese words it does not know: "改成16:00")."""
    stripped = text.strip()
    phrases = [(text.find(stripped), stripped)] if len(stripped) <= _MAX_GAP * 3 else []
    if language in _PAIRS_LANGUAGES and not phrases:
        words = list(re.finditer(r"\w+", text))
        phrases = [(a.start(), text[a.start() : b.end()]) for a, b in zip(words, words[1:], strict=False)]
    phrases += [(cue.start(), cue.group(0)) for cue in _DIGIT_DATE.finditer(text)]
    for start, phrase in phrases:
        when = parse(phrase)
        if when is not None and _plausible(phrase, when, now, language):
            return [(start, start + len(phrase), when, period_of(phrase, now) == "time")]
    return []


def _day_before(
    text: str, earliest: int, start: int, end: int, when: datetime, parse: Callable[[str], datetime | None]
) -> tuple[int, datetime]:
    """Where a time's phrase starts and what it means, taking in the words before it when they name a day."""
    words = [m.start() for m in re.finditer(r"(?<!\w)\w", text[earliest:start])]
    for offset in words:  # the longest run of words before the time first
        day = parse(text[earliest + offset : start].strip())
        if day is not None:
            return earliest + offset, day.replace(hour=when.hour, minute=when.minute, second=0, microsecond=0)
    return start, when


def _plausible(phrase: str, when: datetime, now: datetime, language: str) -> bool:
    """Not a number nor a fraction (the number entity's), nor a short word dateparser reads as a month or a
    weekday ("may", French "je" for jeudi, Spanish "mi" for miércoles): words all under four letters count
    only as a relative day ("hoy", "azi"), a month's or weekday's name with a word besides it ("in May",
    "on tue"), or a weekday's name and nothing else (Romanian "joi")."""
    stripped = phrase.strip()
    if re.fullmatch(r"[\d\s.,/-]+", stripped) and len(re.findall(r"\d+", stripped)) < 3:
        return False  # "42", "1/2": a number or a fraction; a date in digits has a day, a month and a year
    if stripped.lower() in _SHORT_WEEKDAYS.get(language, ()):
        return True
    words = re.findall(r"\w+", stripped.lower())
    if all(len(word) < 4 for word in words) and not re.search(r"\d|[\u3000-\u9fff]", stripped):
        # not "within two days": that depended on the date. "in May", "on tue": a month's or a weekday's name
        # of three letters or more with a word besides it
        names = _calendar_names(language)
        named = len(words) >= 2 and any(len(word) >= 3 and word in names for word in words)
        return named or stripped.lower() in _relative_words(language)
    return True


@cache
def _calendar_names(language: str) -> frozenset[str]:
    """dateparser's names of the months and weekdays in ``language``, abbreviations included ("jan", "tue")."""
    from dateparser.languages.loader import default_loader

    info = default_loader.get_locale(language).info
    return frozenset(w.lower() for key in _DATE_KEYS[:19] for w in info.get(key, ()) if isinstance(w, str))


@cache
def _relative_words(language: str) -> frozenset[str]:
    """dateparser's words for a day relative to today in ``language`` ("hoy", "azi")."""
    from dateparser.languages.loader import default_loader

    info = default_loader.get_locale(language).info
    return frozenset(p.lower() for phrases in info.get("relative-type", {}).values() for p in phrases)


def _join_day_and_time(
    matches: list[tuple[int, int, datetime, bool]],
) -> list[tuple[int, int, datetime, bool]]:
    """A day and a time of day found apart, close together ("ngày mai" ... "lúc 10:00"): one date and time."""
    joined: list[tuple[int, int, datetime, bool]] = []
    for start, end, when, has_time in matches:
        if joined:
            first_start, first_end, first, first_has_time = joined[-1]
            if start - first_end <= _MAX_GAP and first_has_time != has_time:
                day, hour = (when, first) if has_time is False else (first, when)
                joined[-1] = (first_start, end, day.replace(hour=hour.hour, minute=hour.minute), True)
                continue
        joined.append((start, end, when, has_time))
    return joined


def _order(language: str) -> str:
    """Day before month in a date in digits ("12.05.2024" is 12 May), as our languages write it, English too:
    the shops are European; Chinese writes the year first."""
    return "YMD" if language == "zh" else "DMY"


def _settings(language: str, now: datetime) -> dict[str, Any]:
    """How dateparser reads a date here: the next one ("on Monday"), counted from now, day-month order but in
    Chinese, and a month without a day its first ("in January 2019" is 2019-01-01, not today's day of it)."""
    return {
        "PREFER_DATES_FROM": "future",
        "PREFER_DAY_OF_MONTH": "first",
        "RELATIVE_BASE": now,
        "DATE_ORDER": _order(language),
    }


@cache
def _parsers(
    language: str,
) -> tuple[Callable[..., Any], Callable[[str, datetime], str | None], Callable[..., datetime | None]]:
    """dateparser's search, a reader of a phrase's period ("day" or "time") and one of its date, imported on
    first use."""
    from dateparser.date import DateDataParser
    from dateparser.search import search_dates

    def period_of(phrase: str, now: datetime) -> str | None:
        settings = {**_settings(language, now), "RETURN_TIME_AS_PERIOD": True}
        parsed = DateDataParser(languages=[language], settings=settings).get_date_data(phrase)
        return parsed.period if parsed.date_obj is not None else None

    def read(phrase: str, now: datetime, require_day: bool = False) -> datetime | None:
        settings = {**_settings(language, now), "REQUIRE_PARTS": ["day"]} if require_day else _settings(language, now)
        when: datetime | None = DateDataParser(languages=[language], settings=settings).get_date_data(phrase).date_obj
        return when

    return search_dates, period_of, read
