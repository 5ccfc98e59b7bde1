"""E-mail addresses written the way people write them to dodge spam bots or on a phone keyboard.

"anna(at)example.com", "anna [at] example [dot] com", "anna at example dot com", "anna arroba example punto
com", "anna małpa example kropka pl", "anna@example. com": the words for "at" and "dot" in our eleven
languages. A bare word "at" counts only when a word for "dot" or a real dot follows in the domain, so "look
at this" is no address.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

_AT_WORDS = (
    "at",
    "arroba",  # es pt
    "arobase",  # fr
    "chiocciola",  # it
    "apenstaartje",  # nl
    "klammeraffe",  # de
    "małpa",  # pl
    "malpa",
    "a rond",  # ro
    "arond",
    "a còng",  # vi
    "a móc",
    "艾特",  # zh
)
_DOT_WORDS = ("dot", "punto", "point", "punkt", "punt", "ponto", "kropka", "punct", "chấm", "点", "點")


def _alternatives(words: tuple[str, ...]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_UNSPACED_AT, _UNSPACED_DOT = "艾特", "点|點"  # Chinese writes no space around them: "anna艾特example点com"
_AT = (
    rf"(?:\s*[(\[{{<]\s*(?:{_alternatives(_AT_WORDS)}|@)\s*[)\]}}>]\s*|\s*@\s*|\s+(?:{_alternatives(_AT_WORDS)})\s+"
    rf"|\s*(?:{_UNSPACED_AT})\s*)"
)
_DOT = (
    rf"(?:\s*[(\[{{<]\s*(?:{_alternatives(_DOT_WORDS)}|\.)\s*[)\]}}>]\s*|\.\s?|\s+(?:{_alternatives(_DOT_WORDS)})\s+"
    rf"|\s*(?:{_UNSPACED_DOT})\s*)"
)
# A word character of an address but no Chinese, Japanese or Korean one: those scripts put no space before or
# after an address ("我的邮箱是anna@example.com谢谢"), so it starts and ends at the script's edge
_LATIN_WORD_CHARACTER = r"[^\W\u3000-\u9fff\uac00-\ud7af\uff00-\uffef]"
LOCAL_PART_CHARACTER = rf"(?:{_LATIN_WORD_CHARACTER}|[.+-])"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_WRITTEN = re.compile(
    rf"(?<!{LOCAL_PART_CHARACTER})(?P<local>{LOCAL_PART_CHARACTER}+)(?P<at>{_AT})(?P<domain>{_LABEL}(?:{_DOT}{_LABEL})*{_DOT}(?P<tld>[A-Za-z]{{2,24}}))"
    rf"(?!{_LATIN_WORD_CHARACTER}|@)",
    re.IGNORECASE,
)
_DOT_SPLIT = re.compile(_DOT, re.IGNORECASE)
_HINT = re.compile(rf"@|{_UNSPACED_AT}|(?<!\w)(?:{_alternatives(_AT_WORDS)})(?!\w)", re.IGNORECASE)


@dataclass(frozen=True)
class FoundEmail:
    start: int
    end: int
    value: str


# a plain address, "anna@example.com": the email entity's, and no language's words (nlu_models.language)
PLAIN_EMAIL = re.compile(rf"(?<!{LOCAL_PART_CHARACTER}){LOCAL_PART_CHARACTER}+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{{2,}}")


@functools.lru_cache(maxsize=256)  # a message is read twice: by language ID, then by the entity extractor
def find_written_emails(text: str) -> tuple[FoundEmail, ...]:
    """Addresses written with words or brackets for "@" and "." (a plain address is the email entity's)."""
    if not _HINT.search(text):
        return ()  # no "@" and no word for it: no need to try the address pattern at each word
    found = []
    for match in _WRITTEN.finditer(text):
        if re.fullmatch(r"[\w.+-]+@[\w.-]+", match.group(0)):
            continue  # a plain address: the regular email rule reads it
        if not re.search(r"[@(\[{<]", match.group("at")) and re.search(r"\.\s", match.group("domain")):
            continue  # "I'm at home. Call me": a bare "at" wants a word for "dot" or a dot inside a word
        domain = ".".join(part for part in _DOT_SPLIT.split(match.group("domain")) if part)
        found.append(FoundEmail(match.start(), match.end(), f"{match.group('local')}@{domain}".lower()))
    return tuple(found)
