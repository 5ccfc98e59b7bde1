"""Which language a short chat message is in, in microseconds, also when it is typed without accents.

The evidence, each weighed as log-odds and summed (Bayes):

- a character n-gram model of our 11 languages (nlu_models.language_grams, built from MASSIVE's train split
  with accent-folded copies, so "e muon doi tra giay bi chat qua" reads as Vietnamese), restricted to the
  bot's languages;
- each language's function words (spaCy's stop-word lists, no download) and chat words (greetings, thanks:
  nlu_models.chat_words), which settle one-word messages ("moin", "salve", "hoi") and the Spanish /
  Portuguese / Italian / Romanian confusions of a five-word message;
- letters only one of our languages uses ("ł", "ș", "ơ");
- the bot's own examples and its flows' trigger phrases: a language model over the examples, the exact
  example or phrase ("hallo" is German here, "aprire un ticket" Italian), a phrase of two words or more inside
  the message ("carta regalo 40 euro" is Italian), and the loan words they use in
  many languages ("ticket", "chatbot"), which then say nothing of the language;
- what we already know: the thread's language is a strong prior, the channel's locale (browser language,
  Messenger profile) a weaker one;
- stickiness: a thread moves to another language only on clear evidence from a message of two words or
  more, so "ok", "taxi" or "merci" change nothing.

Deterministic and cheap: tens of microseconds for a short message (bench/language_speed.py), where
langdetect's several random trials cost ten times that. bench/nlu_massive.py reports MASSIVE test
figures, with and without priors, and on an unaccented copy.
"""

from __future__ import annotations

import functools
import importlib.util
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bots.types import short_locale
from nlu_models.accents import fold
from nlu_models.base import LanguageHints
from nlu_models.chat_words import CHAT_WORDS
from nlu_models.language_grams import LanguageGrams, words
from nlu_models.linear import Linear, TfidfFeatures, fit_linear, normalise
from nlu_models.written_emails import PLAIN_EMAIL, find_written_emails

_HAN = re.compile(r"[\u3400-\u9fff]")
# e-mail and web addresses: names and domains, in no language ("oma(at)example.de" read as Romanian)
_ADDRESS = re.compile(rf"{PLAIN_EMAIL.pattern}|(?:https?://|www\.)\S+", re.IGNORECASE)
# Japanese writes Han characters too; kana say it is not Chinese (U+30FB, the middle dot of transcribed
# foreign names, is Chinese punctuation as well)
_KANA = re.compile(r"[\u3040-\u30fa\u30fc-\u30ff]")
# Chat words every one of our languages uses ("ok ok", "haha", "taxi"): no evidence of any language, though
# spaCy lists "ok" as a Polish stop word and "haha" as an Italian one.
NEUTRAL_WORDS = frozenset(
    {
        "ok",
        "okay",
        "okey",
        "oki",
        "okk",
        "kk",
        "k",
        "lol",
        "haha",
        "hahaha",
        "hehe",
        "hihi",
        "xd",
        "xoxo",
        "taxi",
        "hotel",
        "pizza",
        "email",
        "mail",
        "internet",
        "euro",  # "sto euro" (Polish, to "how much?") read as Italian: the currency is every language's
        "euros",
        "eur",
        "wifi",
        "online",
        "app",
        "sms",
        "hey",
        "wow",
        "yay",
        "ops",
        "oops",
        "hm",
        "hmm",
        "mmm",
    }
)
_WORD = re.compile(r"\w+", re.UNICODE)
_LETTER = re.compile(r"[^\W\d_]")
_LATIN = re.compile(r"[^\W\d_\u0250-\u1dff\u1f00-\U0010ffff]")  # letters below U+0250 or in U+1E00-U+1EFF
# Letters that, among our 11 languages, only one uses (in lower case).
_ONLY = {
    "vi": re.compile(r"[đơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]"),
    "pl": re.compile(r"[łżźśćńęą]"),
    "ro": re.compile(r"[șşțţ]"),
    "de": re.compile(r"ß"),
    "es": re.compile(r"[ñ¿¡]"),
    "pt": re.compile(r"[ãõ]"),
}
_ANY_ONLY = re.compile("|".join(pattern.pattern for pattern in _ONLY.values()), re.IGNORECASE)
DOMAIN_WEIGHT = 1.0  # the language model over the bot's own examples
EXACT_WEIGHT = 4.0  # the message is one of the bot's examples, word for word
EXACT_CONFIDENCE = 0.9  # a first message that is a keyword of one language only
PHRASE_WEIGHT = 5.0  # the message holds a trigger phrase of two words or more ("carte cadeau de 20 euros")
STOPWORD_WEIGHT = 9.0  # log-odds for a message made only of one language's function words
FOLDED_WORD = 0.5  # what a function word typed without its accents is worth, against one as written
LETTER_WEIGHT = 6.0
WORD_CACHE = 50_000  # words whose evidence is kept (about 300 bytes each)
FLOOR = 0.02  # what the character model's "not this language" is worth at least
GRAM_TEMPERATURE = 4.0  # the character model's log-likelihoods, summed over grams that are not independent
THREAD_PRIOR = 0.9
LOCALE_PRIOR = 0.6
SWITCH_CONFIDENCE = 0.6  # below this, a message does not move a thread to another language
FIRST_CONFIDENCE = 0.4  # below this, a thread's first message does not set its language
MIN_LETTERS = 3
LOAN_LANGUAGES = 5  # a word the bot's texts use in this many languages ("ticket") is no evidence of one
LOAN_LETTERS = 4  # shorter words in many languages are function words ("la", "de"): their lists weigh them
LONG_WORD = 7  # letters: "rechnung", "paiement"; brand names and laughter are shorter
LONG_WORD_CONFIDENCE = 0.9


def _stop_words(code: str) -> frozenset[str]:
    """spaCy's stop words of a language, read from their own module file: importing ``spacy.lang.<code>``
    first would build that language's tokenizer rules (French: 2 s of regular expressions) in a trainer
    whose helper process tokenizes that language (nlu_models.words)."""
    name = f"spacy.lang.{code}.stop_words"
    module = sys.modules.get(name)
    if module is None:
        import spacy.lang

        spec = importlib.util.spec_from_file_location(name, Path(spacy.lang.__file__).parent / code / "stop_words.py")
        assert spec is not None and spec.loader is not None, code
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return frozenset(module.STOP_WORDS)


@functools.lru_cache(maxsize=256)
def _log_prior(probabilities: tuple[float, ...]) -> np.ndarray:
    """A prior's logarithms: a few distinct priors (the thread's or the locale's language) serve every message."""
    logs: np.ndarray = np.log(np.array(probabilities))
    return logs


def _evidence_words(code: str) -> tuple[frozenset[str], frozenset[str]]:
    """A language's function and chat words as written, and the other forms they take typed without accents
    (weaker evidence: Vietnamese "hỏi" typed "hoi" is also Dutch "hoi")."""
    words = _stop_words(code) | CHAT_WORDS.get(code, frozenset())
    return words, frozenset({fold(w) for w in words} - words)


@dataclass(frozen=True)
class _WordEvidence:
    likelihoods: np.ndarray  # the character model's log-likelihood in each language
    known: int  # how many of the word's grams the model knows
    listed: np.ndarray  # where the word is one of that language's function or chat words: 1, or FOLDED_WORD


@dataclass(frozen=True)
class LanguageGuess:
    code: str
    confidence: float  # 0 when the text itself said nothing (the thread's or default language was kept)


class LanguageIdentifier:
    def __init__(
        self,
        languages: tuple[str, ...],
        default_language: str,
        *,
        grams: TfidfFeatures | None = None,
        example_languages: list[str] | None = None,
        examples: list[str] | None = None,
        phrases: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        """``examples`` (normalised, with their ``example_languages`` and ``grams`` fitted on them) are the
        bot's own training texts: short in-domain words ("hallo", "ciao") that a general model gets wrong.
        ``phrases`` (language -> the flows' trigger phrases) are the bot's own words too: "aprire un ticket"
        is Italian, though "ticket" alone reads as French."""
        self.languages = tuple(languages)
        self.default_language = default_language
        self._grams = grams
        self._domain: Linear | None = None
        self._exact: dict[str, set[str]] = {}
        self._words: dict[str, set[str]] = {}  # each word of the bot's examples: the languages that use it
        if examples and example_languages:
            for text, language in zip(examples, example_languages, strict=True):
                self._exact.setdefault(text, set()).add(language)
                for word in _WORD.findall(text.lower()):
                    self._words.setdefault(word, set()).add(language)
            if grams is not None and len(set(example_languages)) > 1:
                self._domain = Linear(fit_linear(grams.matrix, example_languages))
        self._phrases: dict[str, set[str]] = {}  # those of two words or more, found inside a message
        self._keywords: dict[str, set[str]] = {}  # every trigger phrase, as a whole message
        for language, texts in (phrases or {}).items():
            for text in texts:
                self._exact.setdefault(normalise(text), set()).add(language)
                self._keywords.setdefault(normalise(text), set()).add(language)
                if len(_WORD.findall(text)) >= 2:
                    self._phrases.setdefault(normalise(text), set()).add(language)
                for word in _WORD.findall(text.lower()):
                    self._words.setdefault(word, set()).add(language)
        longest_first = sorted(self._phrases, key=len, reverse=True)
        self._phrase_pattern = (
            re.compile(rf"(?<!\w)(?:{'|'.join(map(re.escape, longest_first))})(?!\w)") if longest_first else None
        )
        self._loan = frozenset(
            w
            for w, used in self._words.items()
            if len(used) >= LOAN_LANGUAGES and len(_LETTER.findall(w)) >= LOAN_LETTERS
        )
        self._grams_model = LanguageGrams(self.languages)
        # where each of our languages is among the domain model's classes (a language without examples: past
        # the end, probability 0)
        classes = self._domain.classes if self._domain is not None else []
        self._domain_order = np.array([classes.index(c) if c in classes else len(classes) for c in self.languages])
        self._stopwords = {code: _evidence_words(code) for code in self.languages}
        self._chat = {code: CHAT_WORDS.get(code, frozenset()) for code in self.languages}
        self._chat = {code: words | {fold(w) for w in words} for code, words in self._chat.items()}
        self._cache: dict[str, _WordEvidence] = {}

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        del state["_grams_model"]  # the shipped table: a loaded model reads it from the package, not the pickle
        state["_cache"] = {}
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        state.setdefault("_loan", frozenset())  # a model saved before loan words
        self.__dict__.update(state)
        self._grams_model = LanguageGrams(self.languages)

    def _word(self, word: str) -> _WordEvidence:
        """What one word says of each language, computed once per word: chat repeats its words."""
        evidence = self._cache.get(word)
        if evidence is None:
            likelihoods, known = self._grams_model.word(word)
            # a word the bot's texts use in many languages ("stop", which spaCy lists as French) is evidence only
            # where it is that language's own greeting or thanks ("ciao")
            loan = word in self._loan
            listed = np.array(
                [
                    0.0
                    if loan and word not in self._chat[code]
                    else 1.0
                    if word in (lists := self._stopwords[code])[0]
                    else FOLDED_WORD
                    if word in lists[1]
                    else 0.0
                    for code in self.languages
                ],
                dtype=np.float32,
            )
            evidence = _WordEvidence(likelihoods, known, listed)
            if len(self._cache) >= WORD_CACHE:
                self._cache.clear()
            self._cache[word] = evidence
        return evidence

    def scores(
        self, text: str, prior: dict[str, float] | None = None, features: tuple[np.ndarray, np.ndarray] | None = None
    ) -> dict[str, float]:
        """Probabilities over the bot's languages (they sum to 1)."""
        size = len(self.languages)
        logits = np.zeros(size)
        tokens = [w for w in words(text) if not w.isdigit()]  # "42", "90": no language's
        evidence = [self._word(token) for token in tokens if token not in self._loan]
        if size > 1 and any(e.known for e in evidence):
            gram_logits = np.add.reduce([e.likelihoods for e in evidence]) / GRAM_TEMPERATURE
            exp = np.exp(gram_logits - gram_logits.max())
            logits += np.log(exp / exp.sum() + FLOOR)
        else:
            logits += math.log(FLOOR)
        distinct = set(tokens) - NEUTRAL_WORDS  # "ok ok" is one word, and no evidence
        if distinct:
            logits += STOPWORD_WEIGHT * sum(self._word(w).listed for w in distinct) / len(distinct)
        if _ANY_ONLY.search(text):
            lowered = text.lower()
            logits += LETTER_WEIGHT * np.array(
                [bool((o := _ONLY.get(c)) and o.search(lowered)) for c in self.languages]
            )
        if self._domain is not None and self._grams is not None:
            index, weights = features if features is not None else self._grams.features(text)
            if index.size:
                domain = np.append(self._domain.probabilities(index, weights), 0.0)[self._domain_order]
                logits += DOMAIN_WEIGHT * np.log(domain + FLOOR)
        normal = normalise(text)
        exact = self._exact.get(normal)
        if exact:
            logits += np.array([EXACT_WEIGHT / len(exact) if c in exact else 0.0 for c in self.languages])
        if self._phrase_pattern is not None:  # "carte cadeau de 20 euros" was Romanian, as "carte" is
            for phrase in {match.group(0) for match in self._phrase_pattern.finditer(normal)}:
                used = self._phrases[phrase]
                logits += np.array([PHRASE_WEIGHT / len(used) if c in used else 0.0 for c in self.languages])
        if prior:
            logits += _log_prior(tuple(prior.get(c, 1e-6) for c in self.languages))
        exp = np.exp(logits - logits.max())
        return dict(zip(self.languages, (exp / exp.sum()).tolist(), strict=True))

    def _unmistakable(self, lowered: str, words: set[str], language: str, other: str, confidence: float) -> bool:
        """A word of ``language`` and not of ``other``: the bot's examples use it in the one and not the other
        ("bestellung", "merci" against English), it has letters only ``language`` writes ("cześć"), or it is
        a long word every statistic puts there, against the locale's prior ("rückerstattung", "fattura").
        A greeting or thanks of ``language`` only ("hola", "moin", "salve") counts unless the bot's examples
        use it elsewhere. A short word the examples never use ("haha", "nike", "asdf", "adidas") is no
        evidence."""
        only = _ONLY.get(language)
        if only is not None and only.search(lowered):
            return True
        if confidence >= LONG_WORD_CONFIDENCE and any(len(w) >= LONG_WORD for w in words):
            return True
        return bool(words) and all(
            (language in (used := self._words.get(w, set())) or (w in self._chat[language] and not used))
            and other not in used
            and w not in self._chat.get(other, ())
            for w in words
        )

    def prior(self, hints: LanguageHints) -> dict[str, float] | None:
        known = hints.thread_language if hints.thread_language in self.languages else None
        weight = THREAD_PRIOR
        if known is None:
            known = short_locale(hints.channel_locale)
            known = known if known in self.languages else None
            weight = LOCALE_PRIOR
        if known is None or len(self.languages) == 1:
            return None
        rest = (1 - weight) / (len(self.languages) - 1)
        return {code: weight if code == known else rest for code in self.languages}

    def identify(
        self, text: str, hints: LanguageHints, features: tuple[np.ndarray, np.ndarray] | None = None
    ) -> LanguageGuess:
        sticky = hints.thread_language if hints.thread_language in self.languages else None
        locale = short_locale(hints.channel_locale)
        locale = locale if locale in self.languages else None
        fallback = sticky or locale or self.default_language
        if len(self.languages) == 1:
            return LanguageGuess(self.languages[0], 1.0 if text.strip() else 0.0)
        if (bare := without_addresses(text)) != text:
            text, features = bare, None  # the features were of the whole text
        letters = len(_LETTER.findall(text))
        han = len(_HAN.findall(text))
        if (han >= 2 or han == letters > 0) and not _KANA.search(text) and "zh" in self.languages:
            # Chinese customers write product names in Latin letters ("nike air max 90 有吗"); one sign
            # inside another language ("in 42码?") is left to the scores below
            return LanguageGuess("zh", 0.99)
        if letters < MIN_LETTERS:
            return LanguageGuess(fallback, 0.0)  # "ST-123456", "42", "?", "ok": no language in them
        if len(_LATIN.findall(text)) * 2 < letters:
            return LanguageGuess(fallback, 0.0)  # Arabic, Japanese, Korean...: none of our languages' scripts
        lowered = text.lower()
        distinct = set(_WORD.findall(lowered)) - NEUTRAL_WORDS
        if not distinct:
            return LanguageGuess(fallback, 0.0)  # "ok", "haha", "ok ok": every language says them
        one_word = len(distinct) <= 1  # "taxi taxi" is one word
        if sticky is not None and one_word:
            return LanguageGuess(sticky, 0.0)  # one word ("taxi", "merci") is no evidence against the thread's
        keyword = self._keywords.get(normalise(text)) if sticky is None and locale is None else None
        if keyword is not None and len(keyword) == 1:
            # a first message that is a flow's keyword in one language only, with no browser or profile
            # language to go by: "cadeaubon" was answered in English (its letters read French and Romanian, and
            # one word sets no thread). Not the examples: "good bye", "agent", "hello !" are in many mouths
            return LanguageGuess(next(iter(keyword)), EXACT_CONFIDENCE)
        probabilities = self.scores(text, self.prior(hints), features)
        best = max(probabilities, key=lambda code: (probabilities[code], code == fallback))
        confidence = round(probabilities[best], 3)
        if sticky is not None and best != sticky and confidence < SWITCH_CONFIDENCE:
            return LanguageGuess(sticky, 0.0)  # too little evidence to move the thread to another language
        used = self._words.get(next(iter(distinct)), set()) if one_word else set()
        if sticky is None and locale is None and used and best not in used:
            # a first message of one word the bot's own examples use, in other languages than the statistics
            # say ("cancel" reads as Spanish): the examples' language, or the default when several use it
            return LanguageGuess(next(iter(used)) if len(used) == 1 else fallback, 0.0)
        if (
            sticky is None
            and one_word
            and locale is not None
            and best != locale
            and not self._unmistakable(lowered, distinct, best, locale, confidence)
        ):
            # a first message of one word ("haha", "nike", "asdf") against the browser's or profile's
            # language: only a word the bot knows in the other language, or its letters, say otherwise
            return LanguageGuess(fallback, 0.0)
        greeting = one_word and all(w in self._chat[best] for w in distinct)  # "hallo": German or Dutch
        if sticky is None and confidence < (SWITCH_CONFIDENCE if one_word and not greeting else FIRST_CONFIDENCE):
            return LanguageGuess(fallback, 0.0)  # a guess this weak must not pick the thread's language
        return LanguageGuess(best, confidence)


def without_addresses(text: str) -> str:
    """``text`` with its e-mail addresses (also written "anna(at)example.de") and web addresses blanked out."""
    spans = [(e.start, e.end) for e in find_written_emails(text)]
    if "@" in text or "://" in text or "www." in text.lower():
        spans += [match.span() for match in _ADDRESS.finditer(text)]
    for start, end in sorted(spans, reverse=True):  # overlapping spans blank the same characters again
        text = text[:start] + " " * (end - start) + text[end:]
    return text
