"""Training copies that open with a greeting or a thanks: customers write "hi, where is my order?" and "thanks!
can you tell me a joke?", and a model that saw "hi" only alone and "where is my order" only alone took the
whole message for a greeting or a thanks about one time in seven (the demo's held-out messages, BENCHMARKS.md).

Which intents are such short replies, and what their openers are, is read from the bot's own examples (no word
list per language): an intent whose examples are mostly one or two words long (greetings, thanks, yes, no,
goodbye) lends its one- and two-word examples as openers to the longer examples of the other intents, the
background corpus's other topics included, in the same language. One in twenty of those examples gets a copy;
which one, and which opener, depends only on the text, so a training is reproducible.

The copies teach the pattern; :class:`OpenerSplit` reads it at prediction too. A message the model takes for a
short reply that opens with one of them ("ok thanks, and when will it arrive?") has the rest scored alone, and
the rest's intent wins when it is another, sure and surer than the whole: the demo's held-out requests after an
opener 88.7 -> 93.9 %, while "thanks, that was really useful" stays a thanks (BENCHMARKS.md). A rest that is
another topic ("thanks! will it rain tomorrow?") reaches the fallback when the short reply is not sure of the
whole message.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
import zlib
from collections import defaultdict

SHORT_REPLY_MEDIAN_WORDS = 2  # an intent whose examples' median length is this or less is a short reply
OPENER_WORDS = 2  # the longest opener
OPENER_CHARACTERS = 14
BODY_WORDS = 3  # an example shorter than this gets no opener: "hi, yes" is not what is taught here
# A "no" that opens a message is not left behind: what follows says what is refused ("no thanks, I don't need a
# size chart", "nein danke, ich will nicht stornieren"), so it is never scored alone (Rasa's name for the intent)
REFUSALS = frozenset({"deny"})
# A "yes" that opens a message answers: what follows says what is agreed to ("yes, that works for me"), so it is
# never taken for another topic (the request after it still counts: "yes, and when will it arrive?")
AGREEMENTS = frozenset({"affirm"})
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


def _openers(
    texts: list[str], intents: list[str], languages: list[str], lengths: list[float], not_openers: frozenset[str]
) -> tuple[set[str], dict[str, list[str]]]:
    """The short-reply intents, and per language their one- and two-word examples that open other messages."""
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
    return short, openers


class OpenerSplit:
    """What follows a short reply's opener in a message ("ok thanks, and when will it arrive?" -> "and when will
    it arrive?"), for the intent model to score alone; built from the same training texts as the copies."""

    def __init__(
        self, texts: list[str], intents: list[str], languages: list[str], *, not_openers: frozenset[str]
    ) -> None:
        self.short, openers = _openers(texts, intents, languages, [words(t) for t in texts], not_openers)
        self.split_after = self.short - REFUSALS  # the short replies a request may follow
        every = sorted({opener for found in openers.values() for opener in found}, key=len, reverse=True)
        # the longest opener first ("hello there" before "hello"), each a whole word or words, up to two in a row
        # ("ok, thanks!", "vale, gracias."), with the marks and spaces after them
        alternatives = "|".join(map(re.escape, every))
        self._pattern = re.compile(rf"(?:(?:{alternatives})(?!\w)[\W_]*){{1,2}}") if every else None

    def rest(self, normalised: str) -> str | None:
        """The message after its opener (the text as the model normalises it), None when it opens with none or
        what follows is shorter than the copies' bodies ("thanks, all good" stays whole: ``BODY_WORDS``)."""
        found = self._pattern.match(normalised) if self._pattern is not None else None
        if found is None:
            return None
        rest = normalised[found.end() :]
        return rest if words(rest) >= BODY_WORDS else None


def with_openers(
    texts: list[str], intents: list[str], languages: list[str], *, not_openers: frozenset[str] = frozenset()
) -> tuple[list[str], list[str], list[str]]:
    """``texts`` plus the copies with an opener (same intent, same language). ``not_openers``: intents that
    never lend openers whatever their examples' length (the background class)."""
    lengths = [words(text) for text in texts]  # each text's length, measured once
    short, openers = _openers(texts, intents, languages, lengths, not_openers)
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
