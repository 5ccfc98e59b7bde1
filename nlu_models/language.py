"""Which language a short chat message is in: langdetect, made reliable for chat.

langdetect alone gets about 93 % of MASSIVE's short utterances right among
our 11 languages, and it flips between runs. Here it is:

- restricted to the bot's languages (its profiles for the others are never loaded);
- seeded, so the same text always gets the same answer;
- helped by each language's function words (spaCy's stop-word lists, no
  download) and by letters only one of our languages uses, which settle the
  Spanish / Portuguese / Italian / Romanian confusions that langdetect's
  character statistics leave on a five-word message;
- weighed with what we already know (Bayes): the thread's language is a strong
  prior, the channel's locale (browser language, Messenger profile) a weaker one;
- sticky: a thread moves to another language only on clear evidence from a
  message of two words or more, so "ok", "taxi" or "merci" change nothing.

Measured on MASSIVE dev (11 locales): 94.8 % without a prior, 99.9 % with the
thread's language as prior (bench/nlu_massive.py reports the test figures).
"""

from __future__ import annotations

import importlib.util
import math
import os
import re
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import langdetect
import numpy as np
from langdetect.detector_factory import DetectorFactory
from langdetect.lang_detect_exception import LangDetectException

from bots.types import short_locale
from nlu_models.base import LanguageHints
from nlu_models.linear import Linear, TfidfFeatures, fit_linear, normalise

_PROFILE = {"zh": "zh-cn"}  # langdetect's name for Simplified Chinese
_HAN = re.compile(r"[\u3400-\u9fff]")
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
# Letters that, among our 11 languages, only one uses (in lower case).
_ONLY = {
    "vi": re.compile(r"[đơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]"),
    "pl": re.compile(r"[łżźśćńęą]"),
    "ro": re.compile(r"[șşțţ]"),
    "de": re.compile(r"ß"),
    "es": re.compile(r"[ñ¿¡]"),
    "pt": re.compile(r"[ãõ]"),
}
DOMAIN_WEIGHT = 1.0  # the language model over the bot's own examples
EXACT_WEIGHT = 4.0  # the message is one of the bot's examples, word for word
STOPWORD_WEIGHT = 9.0  # log-odds for a message made only of one language's function words
LETTER_WEIGHT = 6.0
FLOOR = 0.02  # what langdetect's "not this language" is worth (it leaves out anything under 0.1)
THREAD_PRIOR = 0.9
LOCALE_PRIOR = 0.6
SWITCH_CONFIDENCE = 0.6  # below this, a message does not move a thread to another language
FIRST_CONFIDENCE = 0.4  # below this, a thread's first message does not set its language
MIN_LETTERS = 3
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
    ) -> None:
        """``examples`` (normalised, with their ``example_languages`` and ``grams`` fitted on them) are the
        bot's own training texts: short in-domain words ("hallo", "ciao") that langdetect gets wrong."""
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
        self._factory = DetectorFactory()
        folder = os.path.join(os.path.dirname(langdetect.__file__), "profiles")
        profiles = []
        for code in self.languages:
            with open(os.path.join(folder, _PROFILE.get(code, code)), encoding="utf-8") as file:
                profiles.append(file.read())
        if len(profiles) > 1:
            self._factory.load_json_profile(profiles)
        self._factory.set_seed(0)
        self._lock = threading.Lock()  # langdetect's factory is shared state
        self._stopwords = {code: _stop_words(code) for code in self.languages}

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        del state["_lock"]  # locks do not pickle; a loaded model gets its own
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def scores(
        self, text: str, prior: dict[str, float] | None = None, features: tuple[np.ndarray, np.ndarray] | None = None
    ) -> dict[str, float]:
        """Probabilities over the bot's languages (they sum to 1)."""
        domain: dict[str, float] = {}
        if self._domain is not None and self._grams is not None:
            index, weights = features if features is not None else self._grams.features(text)
            if index.size:
                domain = dict(zip(self._domain.classes, self._domain.probabilities(index, weights), strict=True))
        exact = self._exact.get(normalise(text), set())
        detected: dict[str, float] = {}
        if len(self.languages) > 1:
            with self._lock:
                detector = self._factory.create()
            detector.append(text)
            try:
                detected = {("zh" if p.lang == "zh-cn" else p.lang): p.prob for p in detector.get_probabilities()}
            except LangDetectException:
                detected = {}
        lowered = text.lower()
        words = sorted(set(_WORD.findall(lowered)) - NEUTRAL_WORDS)  # "ok ok" is one word, and no evidence
        logits = {}
        for code in self.languages:
            logit = math.log(detected.get(code, 0.0) + FLOOR)
            if words:
                logit += STOPWORD_WEIGHT * sum(1 for w in words if w in self._stopwords[code]) / len(words)
            only = _ONLY.get(code)
            if only is not None and only.search(lowered):
                logit += LETTER_WEIGHT
            if domain:
                logit += DOMAIN_WEIGHT * math.log(domain.get(code, 0.0) + FLOOR)
            if code in exact:
                logit += EXACT_WEIGHT / len(exact)
            if prior:
                logit += math.log(prior.get(code, 1e-6))
            logits[code] = logit
        top = max(logits.values())
        exp = {code: math.exp(value - top) for code, value in logits.items()}
        total = sum(exp.values())
        return {code: value / total for code, value in exp.items()}

    def _unmistakable(self, lowered: str, words: set[str], language: str, other: str, confidence: float) -> bool:
        """A word of ``language`` and not of ``other``: the bot's examples use it in the one and not the other
        ("bestellung", "merci" against English), it has letters only ``language`` writes ("cześć"), or it is
        a long word every statistic puts there, against the locale's prior ("rückerstattung", "fattura").
        A short word the examples never use ("haha", "nike", "asdf", "adidas") is no evidence."""
        only = _ONLY.get(language)
        if only is not None and only.search(lowered):
            return True
        if confidence >= LONG_WORD_CONFIDENCE and any(len(w) >= LONG_WORD for w in words):
            return True
        return bool(words) and all(language in (used := self._words.get(w, set())) and other not in used for w in words)

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
        letters = [ch for ch in text if ch.isalpha()]
        han = sum(1 for ch in letters if _HAN.match(ch))
        if (han >= 2 or han == len(letters) > 0) and not _KANA.search(text) and "zh" in self.languages:
            # Chinese customers write product names in Latin letters ("nike air max 90 有吗"); one sign
            # inside another language ("in 42码?") is left to the scores below
            return LanguageGuess("zh", 0.99)
        if len(letters) < MIN_LETTERS:
            return LanguageGuess(fallback, 0.0)  # "ST-123456", "42", "?", "ok": no language in them
        if sum(1 for ch in letters if ch < "\u0250" or "\u1e00" <= ch <= "\u1eff") * 2 < len(letters):
            return LanguageGuess(fallback, 0.0)  # Arabic, Japanese, Korean...: none of our languages' scripts
        lowered = text.lower()
        distinct = set(_WORD.findall(lowered)) - NEUTRAL_WORDS
        if not distinct:
            return LanguageGuess(fallback, 0.0)  # "ok", "haha", "ok ok": every language says them
        one_word = len(distinct) <= 1  # "taxi taxi" is one word
        if sticky is not None and one_word:
            return LanguageGuess(sticky, 0.0)  # one word ("taxi", "merci") is no evidence against the thread's
        probabilities = self.scores(text, self.prior(hints), features)
        best = max(probabilities, key=lambda code: (probabilities[code], code == fallback))
        confidence = round(probabilities[best], 3)
        if sticky is not None and best != sticky and confidence < SWITCH_CONFIDENCE:
            return LanguageGuess(sticky, 0.0)  # too little evidence to move the thread to another language
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
        if sticky is None and confidence < (SWITCH_CONFIDENCE if one_word else FIRST_CONFIDENCE):
            return LanguageGuess(fallback, 0.0)  # a guess this weak must not pick the thread's language
        return LanguageGuess(best, confidence)
