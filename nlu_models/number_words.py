"""Numbers written as words: "two", "zwei", "vingt-deux", "dwadzieścia dwa", "hai mươi hai", "二十".

text2num reads them in English, French, German, Spanish, Italian, Portuguese and Dutch. It has no Chinese,
Polish, Romanian or Vietnamese, and no library on the registry that is kept up covers those, so they are read
from the small tables below (up to millions: what a customer writes for a size, a count or an amount), where a
word is a value or multiplies the word before it ("hai mươi" is 2 x 10). A lone word for one ("one", "un",
"ein", "uno") is not read: it is an article or a pronoun far more often than a count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import islice
from typing import Any

_TEXT2NUM = frozenset({"en", "fr", "de", "es", "it", "pt", "nl"})
_WORD = re.compile(r"\w+|[^\w\s]")
_MAX_TOKENS = 300  # number words are read in a message's first 300 words and signs: a long one costs no more

# value words, multiplier words and words that join two parts ("douăzeci și doi"), per language
_VALUES: dict[str, dict[str, int]] = {
    "pl": {
        **dict.fromkeys(("jeden", "jedna", "jedno"), 1),
        **dict.fromkeys(("dwa", "dwie"), 2),
        "trzy": 3,
        "cztery": 4,
        "pięć": 5,
        "sześć": 6,
        "siedem": 7,
        "osiem": 8,
        "dziewięć": 9,
        "dziesięć": 10,
        "jedenaście": 11,
        "dwanaście": 12,
        "trzynaście": 13,
        "czternaście": 14,
        "piętnaście": 15,
        "szesnaście": 16,
        "siedemnaście": 17,
        "osiemnaście": 18,
        "dziewiętnaście": 19,
        "dwadzieścia": 20,
        "trzydzieści": 30,
        "czterdzieści": 40,
        "pięćdziesiąt": 50,
        "sześćdziesiąt": 60,
        "siedemdziesiąt": 70,
        "osiemdziesiąt": 80,
        "dziewięćdziesiąt": 90,
        "sto": 100,
        "dwieście": 200,
        "trzysta": 300,
        "czterysta": 400,
        "pięćset": 500,
        "sześćset": 600,
        "siedemset": 700,
        "osiemset": 800,
        "dziewięćset": 900,
    },
    "ro": {  # "un" and "o" are also "a": not read as 1
        "unu": 1,
        **dict.fromkeys(("doi", "două", "doua"), 2),
        "trei": 3,
        "patru": 4,
        "cinci": 5,
        **dict.fromkeys(("șase", "sase", "şase"), 6),
        **dict.fromkeys(("șapte", "sapte", "şapte"), 7),
        "opt": 8,
        **dict.fromkeys(("nouă", "noua"), 9),
        "zece": 10,
        "unsprezece": 11,
        **dict.fromkeys(("doisprezece", "douăsprezece", "douasprezece"), 12),
        "treisprezece": 13,
        "paisprezece": 14,
        "cincisprezece": 15,
        **dict.fromkeys(("șaisprezece", "saisprezece"), 16),
        **dict.fromkeys(("șaptesprezece", "saptesprezece"), 17),
        "optsprezece": 18,
        **dict.fromkeys(("nouăsprezece", "nouasprezece"), 19),
        **dict.fromkeys(("douăzeci", "douazeci"), 20),
        "treizeci": 30,
        "patruzeci": 40,
        "cincizeci": 50,
        **dict.fromkeys(("șaizeci", "saizeci"), 60),
        **dict.fromkeys(("șaptezeci", "saptezeci"), 70),
        "optzeci": 80,
        **dict.fromkeys(("nouăzeci", "nouazeci"), 90),
        **dict.fromkeys(("sută", "suta"), 100),
    },
    "vi": {
        "một": 1,
        "mốt": 1,
        "hai": 2,
        "ba": 3,
        "bốn": 4,
        "tư": 4,
        "năm": 5,
        "lăm": 5,
        "sáu": 6,
        "bảy": 7,
        "tám": 8,
        "chín": 9,
        "mười": 10,
    },
    "zh": {
        "零": 0,
        "〇": 0,
        "一": 1,
        "二": 2,
        "两": 2,
        "兩": 2,
        "三": 3,
        "四": 4,
        "五": 5,
        "六": 6,
        "七": 7,
        "八": 8,
        "九": 9,
    },
}
_MULTIPLIERS: dict[str, dict[str, int]] = {
    "pl": {
        **dict.fromkeys(("tysiąc", "tysiące", "tysięcy", "tysiac", "tysiace", "tysiecy"), 1000),
        **dict.fromkeys(("milion", "miliony", "milionów", "milionow"), 1_000_000),
    },
    "ro": {"sute": 100, "mie": 1000, "mii": 1000, "milion": 1_000_000, "milioane": 1_000_000},
    "vi": {"mươi": 10, "trăm": 100, "nghìn": 1000, "ngàn": 1000, "triệu": 1_000_000},
    "zh": {"十": 10, "百": 100, "千": 1000, "万": 10_000, "萬": 10_000, "亿": 100_000_000, "億": 100_000_000},
}
# From a thousand up (in Chinese, which counts in ten thousands, from 万 up) a word multiplies all the words
# before it back to the last such word: "hai trăm năm mươi nghìn" is (2 x 100 + 5 x 10) x 1000, "三千五百万"
# (3000 + 500) x 10000
_GROUPS = {"zh": 10_000}
_JOINERS: dict[str, frozenset[str]] = {
    "ro": frozenset({"și", "si", "şi", "de"}),  # "douăzeci de mii" (20 000)
    "vi": frozenset({"linh", "lẻ"}),
    "zh": frozenset(),
    "pl": frozenset(),
}
# "五万", and digits before a word for a thousand and up: "5万"; "万一" (in case) is no number
_ZH_RUN = re.compile(
    r"(?<![\d.,])\d{1,4}(?=[千万萬亿億])[零〇一二两兩三四五六七八九十百千万萬亿億]+"
    r"|(?![万萬亿億])[零〇一二两兩三四五六七八九十百千万萬亿億]+"
)
_ZH_ALONE = frozenset({"一", "百", "千"})  # "一下", "一样": too common alone to be a number


def chinese_under_hundred(written: str) -> int:
    """一 to 九十九 in Chinese numerals ("三", "十一", "二十"), as an hour or minutes are written."""
    values = _VALUES["zh"]
    if "十" not in written:
        return values[written]
    tens, _, units = written.partition("十")
    return (values[tens] if tens else 1) * 10 + (values[units] if units else 0)


@dataclass(frozen=True)
class FoundNumber:
    start: int
    end: int
    value: int | float


def find_number_words(text: str, language: str | None) -> list[FoundNumber]:
    """The numbers ``text`` writes as words (numbers in digits are the number entity's already)."""
    return list(_number_words(text, language))


@lru_cache(maxsize=256)  # a message is read by the entities and by the hours in words (hour_words.py)
def _number_words(text: str, language: str | None) -> tuple[FoundNumber, ...]:
    if language in _TEXT2NUM:
        return tuple(_with_text2num(text, language))
    if language == "zh":
        runs = (
            (m.start(), m.end(), re.findall(r"\d+|.", m.group(0)))
            for m in _ZH_RUN.finditer(text)
            if m.group(0) not in _ZH_ALONE
        )
        return tuple(found for start, end, words in runs if (found := _compose("zh", [(start, end, w) for w in words])))
    if language in _VALUES:
        return tuple(_with_tables(text, language))
    return ()


def _with_tables(text: str, language: str) -> list[FoundNumber]:
    """Runs of number words (and the words that join them) read with the language's tables."""
    known = {**_VALUES[language], **_MULTIPLIERS.get(language, {})}
    found: list[FoundNumber] = []
    run: list[tuple[int, int, str]] = []
    matches, joiners = list(re.finditer(r"\w+", text)), _JOINERS[language]
    for at, match in enumerate([*matches, None]):
        word = match.group(0).lower() if match else ""
        if match and (
            word in known
            or (run and word in joiners)
            or (word.isdigit() and len(word) <= 3 and _is_group(language, _next_word(matches, at + 1, joiners)))
        ):  # "50 nghìn", "20 de mii": digits before a word for a thousand
            run.append((match.start(), match.end(), word))
            continue
        while run and run[-1][2] in joiners:
            run.pop()
        if run and (number := _compose(language, run)):
            found.append(number)
        run = []
    return found


def _next_word(matches: list[re.Match[str]], at: int, joiners: frozenset[str]) -> str:
    """The first word from ``at`` on that does not join two parts of a number."""
    while at < len(matches) and matches[at].group(0).lower() in joiners:
        at += 1
    return matches[at].group(0).lower() if at < len(matches) else ""


def _is_group(language: str, word: str) -> bool:
    return _MULTIPLIERS.get(language, {}).get(word, 0) >= _GROUPS.get(language, 1000)


def _compose(language: str, words: list[tuple[int, int, str]]) -> FoundNumber | None:
    """ "hai mươi hai" = 2 x 10 + 2; "một trăm linh năm" = 1 x 100 + 5; "二十" = 2 x 10; "十五" = 10 + 5."""
    values, multipliers = _VALUES[language], _MULTIPLIERS.get(language, {})
    groups = total = last = 0  # groups: what the words for a thousand and up have counted so far
    for _, _, word in words:
        if _is_group(language, word):
            groups, total, last = groups + max(total, 1) * multipliers[word], 0, 0
        elif word in multipliers:
            factor = max(last, 1) * multipliers[word]
            total, last = total - last + factor, factor
        elif word in values or word.isdigit():
            value = int(word) if word.isdigit() else values[word]
            total, last = total + value, value
    if not any(w in values or w in multipliers for _, _, w in words):
        return None
    return FoundNumber(words[0][0], words[-1][1], groups + total)


def _with_text2num(text: str, language: str) -> list[FoundNumber]:
    if not re.search(r"[^\W\d_]", text):
        return []  # no letters, no number words
    if not any(_a_number_alone(language, m.group(0)) for m in islice(_WORD.finditer(text), _MAX_TOKENS)):
        return []  # most messages: text2num's search over the whole message would find nothing either
    tokens = [_Token(m) for m, _ in zip(_WORD.finditer(text), range(_MAX_TOKENS), strict=False)]
    found = []
    for occurrence in _find_numbers()(tokens, language, 0):
        start, end = tokens[occurrence.start].begin, tokens[occurrence.end - 1].finish
        if occurrence.value == 1 and occurrence.end - occurrence.start == 1:
            continue  # "a dark one", "un café", "ein Paar": a lone word for one is an article or a pronoun
        if re.search(r"[^\W\d_]", text[start:end]):  # written in words, not (only) digits
            value = occurrence.value
            found.append(FoundNumber(start, end, int(value) if float(value).is_integer() else value))
    return _with_digits_before_scales(tokens, found)


# Words for a thousand and a million after digits ("50 mille", "2 Tausend", "2 mila"): text2num reads the word
# alone, as 1000
_SCALES = {
    **dict.fromkeys(("thousand", "mille", "mil", "mila", "tausend", "duizend"), 1000),
    **dict.fromkeys(("million", "millions", "millionen", "millón", "millones", "milione", "milioni"), 10**6),
    **dict.fromkeys(("milhão", "milhões", "miljoen"), 10**6),
}


def _with_digits_before_scales(tokens: list[_Token], found: list[FoundNumber]) -> list[FoundNumber]:
    """``found`` with "50 mille deux cents" read as 50 x 1000 + 200, not as 50 and 1200."""
    by_start = {number.start: number for number in found}
    for digits, word in zip(tokens, tokens[1:], strict=False):
        scale = _SCALES.get(word.word.lower())
        if not (scale and digits.word.isdigit() and len(digits.word) <= 3) or digits.begin in by_start:
            continue  # no digits before a scale, or text2num read them already
        words = by_start.pop(word.begin, FoundNumber(word.begin, word.finish, scale))
        if any(n.start < word.begin < n.end for n in by_start.values()):
            continue  # the word is inside a number of its own
        by_start[digits.begin] = FoundNumber(digits.begin, words.end, int(digits.word) * scale + words.value - scale)
    return sorted(by_start.values(), key=lambda number: number.start)


class _Token:
    """A word as text2num's ``find_numbers`` reads it, with where it stands in the text."""

    def __init__(self, match: re.Match[str]) -> None:
        self.word, self.begin, self.finish = match.group(0), match.start(), match.end()

    def text(self) -> str:
        return self.word

    def nt_separated(self, previous: Any) -> bool:
        return False

    def not_a_number_part(self) -> bool:
        return False


@lru_cache(maxsize=50_000)
def _a_number_alone(language: str, word: str) -> bool:
    """Whether text2num reads ``word`` by itself as a number, or it is a scale read after digits ("10 mille").
    Every number found in a message has such a word in it ("twenty" in "twenty second", "vingt" in
    "vingt-deux"; a connector like "and" or "a" never makes one alone), so a message without one is skipped
    (tests/test_entity_prefilters.py)."""
    if word.isdigit() or not re.search(r"[^\W\d_]", word):
        return False
    if word.lower() in _SCALES:
        return True
    return any(True for _ in _find_numbers()([_Token(m) for m in _WORD.finditer(word)], language, 0))


@cache
def _find_numbers() -> Any:
    from text_to_num import find_numbers

    return find_numbers
