"""The words the built-in entities look for, in our eleven languages: a word for a shoe size before a number,
and each currency's signs, codes and words (an amount is a number next to one), with its ISO 4217 code."""

from __future__ import annotations

import functools
import re

SIZE_WORDS = (
    "size",
    "sz",
    "eu",
    "taille",
    "pointure",
    "größe",
    "grösse",
    "groesse",
    "gr",
    "taglia",
    "numero",
    "número",
    "maat",
    "rozmiar",
    "rozm",
    "tamanho",
    "talla",
    "mărime",
    "mărimea",
    "marime",
    "marimea",
    "măsura",
    "masura",
    "cỡ",
    "co",
    "size giày",
    "尺码",
    "码数",
)
CURRENCIES = {
    "€": "EUR",
    "eur": "EUR",
    "euro": "EUR",
    "euros": "EUR",
    "$": "USD",
    "usd": "USD",
    "dollar": "USD",
    "dollars": "USD",
    "£": "GBP",
    "gbp": "GBP",
    "pound": "GBP",
    "pounds": "GBP",
    "zł": "PLN",
    "złoty": "PLN",
    "złote": "PLN",
    "złotych": "PLN",
    "zl": "PLN",
    "pln": "PLN",
    "lei": "RON",
    "ron": "RON",
    "₫": "VND",
    "vnd": "VND",
    "vnđ": "VND",
    "đồng": "VND",
    "đ": "VND",
    "¥": "CNY",
    "元": "CNY",
    "cny": "CNY",
    "rmb": "CNY",
    "块": "CNY",
    "yuan": "CNY",
    "块钱": "CNY",
    "人民币": "CNY",
    "欧元": "EUR",
    "美元": "USD",
    "美金": "USD",
    "英镑": "GBP",
    "dólares": "USD",  # es pt
    "dolares": "USD",
    "dollari": "USD",  # it
    "dolari": "USD",  # ro
    "dolarów": "USD",  # pl
    "dolarow": "USD",
    "đô": "USD",  # vi, also "đô la"
    "đô la": "USD",
    "sterline": "GBP",  # it; "Pfund", "livres", "libras", "pond" are weights (and books) too: not read
    "lire sterline": "GBP",  # ro
    "sterling": "GBP",
    "funtów": "GBP",  # pl
    "funty": "GBP",
    "zlotych": "PLN",  # Polish written without its letters
    "zlote": "PLN",
    "zloty": "PLN",
    "r$": "BRL",
    "brl": "BRL",
    "reais": "BRL",
}
# Words that negate what follows in the same clause ("not urgent", "nicht so dringend", "no es urgente", "不紧急"):
# a word of a lookup list after one of them, at most NEGATION_REACH words on, is not the value it names
NEGATIONS = {
    "en": ("not", "no", "never", "isnt", "isn't", "dont", "don't", "doesnt", "doesn't", "nothing"),
    "de": ("nicht", "kein", "keine", "keinen", "nie", "niemals"),
    "fr": ("pas", "non", "jamais", "ne", "n"),
    "es": ("no", "nunca", "ni"),
    "it": ("non", "mai", "niente"),
    "nl": ("niet", "geen", "nooit"),
    "pl": ("nie", "nigdy"),
    "pt": ("nao", "nunca", "nem"),
    "ro": ("nu", "niciodata"),
    "vi": ("khong", "chang", "cha"),
    "zh": ("不", "没", "沒", "别", "別", "非"),
}
NEGATION_REACH = 3
CLAUSE_END = re.compile(r"[,.;:!?，。；：！？]")

UNSPACED = re.compile(r"[\u3000-\u9fff\uac00-\ud7af]")  # CJK and Hangul: words are not spaced, a word is any substring


def negated(before: str, language: str | None) -> bool:
    """Whether the folded text ``before`` a word ends in a negation of its clause: "not (so) urgent", "ce n'est
    pas urgent", "no es urgente", "不紧急" (any language's, without one). A comma ends the clause: "no, urgent"
    is a correction."""
    clause = CLAUSE_END.split(before)[-1]
    unspaced, spaced = _negations(language or None)
    tail = clause.rstrip()[-(NEGATION_REACH + 1) :]
    return any(w in tail for w in unspaced) or any(
        w in spaced for w in re.findall(r"\w+(?:'\w+)?", clause)[-NEGATION_REACH:]
    )


@functools.cache
def _negations(language: str | None) -> tuple[tuple[str, ...], frozenset[str]]:
    """A language's negations (every language's for None): those of scripts without spaces, found anywhere
    near the end of the clause, and the words."""
    words = NEGATIONS.get(language, ()) if language else tuple(w for ws in NEGATIONS.values() for w in ws)
    return tuple(w for w in words if UNSPACED.search(w)), frozenset(w for w in words if not UNSPACED.search(w))
