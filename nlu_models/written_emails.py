"""E-mail addresses written the way people write them to dodge spam bots or on a phone keyboard.

"anna(at)example.com", "anna [at] example [dot] com", "anna at example dot com", "anna arroba example punto
com", "anna małpa example kropka pl", "anna@example. com": the words for "at" and "dot" in our eleven
languages. A bare word "at" counts only when a word for "dot" or a real dot follows in the domain, so "look
at this" is no address.
"""

from __future__ import annotations

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


_AT = rf"(?:\s*[(\[{{<]\s*(?:{_alternatives(_AT_WORDS)}|@)\s*[)\]}}>]\s*|\s*@\s*|\s+(?:{_alternatives(_AT_WORDS)})\s+)"
_DOT = (
    rf"(?:\s*[(\[{{<]\s*(?:{_alternatives(_DOT_WORDS)}|\.)\s*[)\]}}>]\s*|\.\s?|\s+(?:{_alternatives(_DOT_WORDS)})\s+)"
)
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_WRITTEN = re.compile(
    rf"(?<![\w.+-])(?P<local>[\w.+-]+)(?P<at>{_AT})(?P<domain>{_LABEL}(?:{_DOT}{_LABEL})*{_DOT}(?P<tld>[A-Za-z]{{2,24}}))(?![\w@])",
    re.IGNORECASE,
)
_DOT_SPLIT = re.compile(_DOT, re.IGNORECASE)
_HINT = re.compile(rf"@|(?<!\w)(?:{_alternatives(_AT_WORDS)})(?!\w)", re.IGNORECASE)


@dataclass(frozen=True)
class FoundEmail:
    start: int
    end: int
    value: str


def find_written_emails(text: str) -> list[FoundEmail]:
    """Addresses written with words or brackets for "@" and "." (a plain address is the email entity's)."""
    if not _HINT.search(text):
        return []  # no "@" and no word for it: no need to try the address pattern at each word
    found = []
    for match in _WRITTEN.finditer(text):
        if re.fullmatch(r"[\w.+-]+@[\w.-]+", match.group(0)):
            continue  # a plain address: the regular email rule reads it
        if not re.search(r"[@(\[{<]", match.group("at")) and re.search(r"\.\s", match.group("domain")):
            continue  # "I'm at home. Call me": a bare "at" wants a word for "dot" or a dot inside a word
        domain = ".".join(part for part in _DOT_SPLIT.split(match.group("domain")) if part)
        found.append(FoundEmail(match.start(), match.end(), f"{match.group('local')}@{domain}".lower()))
    return found
