"""Entities in a message: the bot's own (regex and lookup lists in YAML) and built-ins every shop needs.

Built-ins: ``number``, ``email``, ``phone``, ``money`` ({amount, currency}),
``shoe_size`` (a size after a size word in any of our languages, "42 码"),
``order_number`` (letters, optional dash, digits: "st-123456" -> "ST-123456").
Where matches overlap, the bot's own entities win, then the more specific
built-in (an order number is not also a phone number, "size 42" not also a
plain number). A slot with the entity's name is filled from it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Callable

from bots.flow.model import Bot, EntityDef
from bots.types import Entity

_CJK = re.compile(r"[\u3000-\u9fff\uac00-\ud7af]")
SIZE_WORDS = ("size", "sz", "eu", "taille", "pointure", "größe", "grösse", "groesse", "gr", "taglia", "numero",
              "número", "maat", "rozmiar", "rozm", "tamanho", "talla", "mărime", "mărimea", "marime", "marimea",
              "măsura", "masura", "cỡ", "co", "size giày", "尺码", "码数")
CURRENCIES = {"€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR", "$": "USD", "usd": "USD", "£": "GBP",
              "gbp": "GBP", "zł": "PLN", "zl": "PLN", "pln": "PLN", "lei": "RON", "ron": "RON", "₫": "VND",
              "vnd": "VND", "đồng": "VND", "¥": "CNY", "元": "CNY", "cny": "CNY", "rmb": "CNY"}
_NUMBER = r"\d+(?:[.,]\d+)?"
_CURRENCY = "|".join(sorted((re.escape(c) for c in CURRENCIES), key=len, reverse=True))


def _to_number(text: str) -> int | float:
    value = float(text.replace(",", "."))
    return int(value) if value.is_integer() else value


def fold(text: str) -> str:
    """Lower case without accents: "Größe" and "grosse", "café" and "cafe" match."""
    decomposed = unicodedata.normalize("NFKD", text.lower().replace("ß", "ss").replace("đ", "d").replace("ł", "l"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass(frozen=True)
class _Rule:
    name: str
    pattern: re.Pattern[str]
    value: Callable[[re.Match[str]], Any]
    rank: int  # lower wins an overlap


def _money(match: re.Match[str]) -> dict[str, Any]:
    currency = (match.group("before") or match.group("after") or "").lower()
    amount = match.group("amount") or match.group("amount2")
    return {"amount": _to_number(amount), "currency": CURRENCIES.get(currency, currency.upper())}


def _phone(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return ("+" if match.group(0).lstrip().startswith("+") else "") + digits


BUILT_INS: tuple[_Rule, ...] = (
    _Rule("order_number", re.compile(r"(?<![\w-])([A-Za-z]{1,4})-?(\d{5,10})(?![\w-])"),
          lambda m: f"{m.group(1).upper()}-{m.group(2)}", 10),
    _Rule("email", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}"), lambda m: m.group(0).lower(), 11),
    _Rule("money", re.compile(rf"(?:(?P<before>{_CURRENCY})\s?(?P<amount>{_NUMBER})|(?P<amount2>{_NUMBER})\s?"
                              rf"(?P<after>{_CURRENCY}))(?!\w)", re.IGNORECASE), lambda m: _money(m), 12),
    _Rule("phone", re.compile(r"(?<![\w+])\+?\d[\d\s().-]{5,}\d(?!\w)"), _phone, 13),
    _Rule("shoe_size", re.compile(r"(?:(?<!\w)(?:" + "|".join(re.escape(w) for w in SIZE_WORDS) + r")\.?:?\s*"
                                  r"(?P<size>\d{2}(?:[.,]5)?)(?!\d)|(?P<size2>\d{2}(?:[.,]5)?)\s*(?:码|号))",
                                  re.IGNORECASE), lambda m: _to_number(m.group("size") or m.group("size2")), 14),
    _Rule("number", re.compile(rf"(?<![\w.,]){_NUMBER}(?![\w])"), lambda m: _to_number(m.group(0)), 20),
)


class EntityExtractor:
    def __init__(self, entities: tuple[EntityDef, ...]) -> None:
        self._rules: dict[str | None, list[_Rule]] = {}
        self._lookups: dict[str | None, list[tuple[str, re.Pattern[str], dict[str, str]]]] = {}
        for entity in entities:
            rules = self._rules.setdefault(entity.language, [])
            rules += [_Rule(entity.name, re.compile(p, re.IGNORECASE), _group_or_all, 0) for p in entity.patterns]
            if entity.lookup:
                values = {fold(text): value for text, value in entity.lookup}
                alternatives = "|".join(re.escape(t) for t in sorted(values, key=len, reverse=True))
                # whole words, except in scripts without spaces
                pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)") if not _CJK.search(alternatives) else \
                    re.compile(alternatives)
                self._lookups.setdefault(entity.language, []).append((entity.name, pattern, values))

    @classmethod
    def for_bot(cls, bot: Bot) -> "EntityExtractor":
        return cls(bot.entities)

    def extract(self, text: str, language: str | None) -> tuple[Entity, ...]:
        found: list[tuple[int, int, int, Entity]] = []  # rank, start, end
        for rule in (*self._rules.get(None, ()), *self._rules.get(language, ()), *BUILT_INS):
            for match in rule.pattern.finditer(text):
                if match.group(0).strip():
                    value = rule.value(match)
                    found.append((rule.rank, match.start(), match.end(),
                                  Entity(rule.name, value, match.start(), match.end(), "regex")))
        folded = fold(text)
        if len(folded) == len(text):  # offsets line up (folding kept every character)
            for name, pattern, values in (*self._lookups.get(None, ()), *self._lookups.get(language, ())):
                for match in pattern.finditer(folded):
                    found.append((1, match.start(), match.end(),
                                  Entity(name, values[match.group(0)], match.start(), match.end(), "lookup")))
        kept: list[tuple[int, int, int, Entity]] = []
        for item in sorted(found, key=lambda f: (f[0], f[1] - f[2], f[1])):
            if all(item[2] <= other[1] or item[1] >= other[2] for other in kept):
                kept.append(item)
        return tuple(item[3] for item in sorted(kept, key=lambda f: f[1]))


def _group_or_all(match: re.Match[str]) -> str:
    """A declared regex's first group if it has one (what to keep), else the whole match."""
    return match.group(1) if match.re.groups else match.group(0)
