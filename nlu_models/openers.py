"""Training copies that open with a greeting or a thanks: customers write "hi, where is my order?" and "thanks!
can you tell me a joke?", and a model that saw "hi" only alone and "where is my order" only alone took the
whole message for a greeting or a thanks about one time in seven (the demo's held-out messages, BENCHMARKS.md).

Which intents are such short replies, and what their openers are, is read from the bot's own examples (no word
list per language): an intent whose examples are mostly one or two words long (greetings, thanks, yes, no,
goodbye) lends its one- and two-word examples as openers to the longer examples of the other intents, the
background corpus's other topics included, in the same language. One in twenty of those examples gets a copy;
which one, and which opener, depends only on the text, so a training is reproducible.
"""

from __future__ import annotations

import statistics
import unicodedata
import zlib
from collections import defaultdict

SHORT_REPLY_MEDIAN_WORDS = 2  # an intent whose examples' median length is this or less is a short reply
OPENER_WORDS = 2  # the longest opener
OPENER_CHARACTERS = 14
BODY_WORDS = 3  # an example shorter than this gets no opener: "hi, yes" is not what is taught here
COPIED_ONE_IN = 20  # one example in twenty gets a copy (one in ten cost the unaccented messages 0.6 points)
SEPARATORS = (", ", "! ", ". ")
WIDE_SEPARATORS = ("，", "！", "。", "")  # Chinese writes its own marks, and no space


def words(text: str) -> float:
    """A text's length in words; Chinese and Japanese are written without spaces, about two characters a word."""
    wide = _wide(text)
    return len(text.split()) + (wide / 2 - 1 if wide > 1 else 0)


def _wide(text: str) -> int:
    return sum(unicodedata.east_asian_width(character) in "WF" for character in text)


def short_reply_intents(texts: list[str], intents: list[str], lengths: list[float] | None = None) -> set[str]:
    """``lengths``: the texts' :func:`words`, when the caller has them already."""
    by_intent: dict[str, list[float]] = defaultdict(list)
    for length, intent in zip(lengths or [words(text) for text in texts], intents, strict=True):
        by_intent[intent].append(length)
    return {intent for intent, seen in by_intent.items() if statistics.median(seen) <= SHORT_REPLY_MEDIAN_WORDS}


def with_openers(
    texts: list[str], intents: list[str], languages: list[str], *, not_openers: frozenset[str] = frozenset()
) -> tuple[list[str], list[str], list[str]]:
    """``texts`` plus the copies with an opener (same intent, same language). ``not_openers``: intents that
    never lend openers whatever their examples' length (the background class)."""
    lengths = [words(text) for text in texts]  # each text's length, measured once
    short = short_reply_intents(texts, intents, lengths) - not_openers
    openers: dict[str, list[str]] = defaultdict(list)
    for text, length, intent, language in zip(texts, lengths, intents, languages, strict=True):
        if (
            intent in short
            and length <= OPENER_WORDS
            and len(text) <= OPENER_CHARACTERS
            and not any(character.isdigit() for character in text)  # a value ("5", "$100"), not a greeting
        ):
            openers[language].append(text)
    for found in openers.values():
        found.sort()  # the same bot gives the same copies, whatever order its files list examples in
    out_texts, out_intents, out_languages = list(texts), list(intents), list(languages)
    for text, length, intent, language in zip(texts, lengths, intents, languages, strict=True):
        choices = openers.get(language)
        if not choices or intent in short or length < BODY_WORDS:
            continue
        digest = zlib.crc32(f"{language}\t{text}".encode())
        if digest % COPIED_ONE_IN:
            continue
        opener = choices[(digest // COPIED_ONE_IN) % len(choices)]
        separators = WIDE_SEPARATORS if _wide(opener) else SEPARATORS
        separator = separators[(digest // 7) % len(separators)]
        out_texts.append(f"{opener}{separator}{text}")
        out_intents.append(intent)
        out_languages.append(language)
    return out_texts, out_intents, out_languages
