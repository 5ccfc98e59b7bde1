"""Words of a message, per language, as features: spaCy's blank tokenizers, lower case, accents folded, lemmas.

No model is downloaded: ``spacy.blank`` brings each language's tokenizer
rules, and spacy-lookups-data the lemma tables of English, Dutch, French,
German, Italian, Portuguese, Romanian and Spanish. Chinese is split into
characters (spaCy's default segmenter, which needs nothing installed) and
read as character pairs too; Vietnamese writes one syllable per space-separated
token, so neighbouring syllables are paired into words ("giày chạy" -> "giày_chạy").
The folded copies ("grosse" for "Größe", "pedido" for "pédido") catch the
missing accents of fast typing.

spaCy is imported and each tokenizer built on first use: building the 11 of the demo takes seconds (French
alone compiles a regular expression for 2 s), so a server builds its default language's before it listens and
the others in a background thread while it answers (:func:`warm_up_in_background`); a message in a language
not built yet waits for that one only.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Iterator, Mapping
from itertools import pairwise
from typing import Any

from nlu_models.accents import fold

log = logging.getLogger(__name__)
logging.getLogger("spacy").setLevel(logging.WARNING)  # "Created vocabulary" for every language otherwise
LEMMA_LANGUAGES = ("en", "nl", "fr", "de", "it", "pt", "ro", "es")
_PIPELINES: dict[str, Any] = {}
_LEMMAS: dict[str, dict[str, Any]] = {}  # as spacy-lookups-data has them: a form's value may be a list
_LOCK = threading.Lock()
_READ_WHOLE = ("zh", "vi", "ja", "ko", "th")  # segmenters of the whole text, not of whitespace-separated pieces
CHUNKS_REMEMBERED = 50_000
_CHUNK_TOKENS: dict[str, dict[str, tuple[tuple[str, bool], ...]]] = {}


def pipeline(language: str) -> Any:
    """spaCy's blank pipeline for a language: its tokenizer, built once (from 0.01 s to 2 s a language)."""
    built = _PIPELINES.get(language)  # no lock once built: a dict read is atomic
    if built is not None:
        return built
    with _LOCK:
        if language not in _PIPELINES:
            import spacy  # 0.5 s: a server that loads a model imports it in the warm-up thread, not before serving

            config = {"nlp": {"tokenizer": {"use_pyvi": False}}} if language == "vi" else {}
            _PIPELINES[language] = spacy.blank(language, config=config)
        return _PIPELINES[language]


class _LemmaTable(Mapping[str, str]):
    """A language's lemma table as spaCy's lookup lemmatizer reads it: where a form lists several lemmas,
    the first. Read through on lookup, because copying a table of a million forms costs a training a second."""

    def __init__(self, table: dict[str, Any]) -> None:
        self._table = table

    def __getitem__(self, form: str) -> str:
        lemma: str = _first(self._table[form], form)
        return lemma

    def get(self, form: str, default: Any = None) -> Any:
        value = self._table.get(form)
        return default if value is None else _first(value, form)

    def __iter__(self) -> Iterator[str]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)

    def items_first(self) -> Iterator[tuple[str, str]]:
        return ((form, _first(value, form)) for form, value in self._table.items())


def _first(value: Any, form: str) -> Any:
    return (value[0] if value else form) if isinstance(value, list) else value


def full_lemmas(language: str) -> _LemmaTable:
    """spacy-lookups-data's whole lemma table of a language (word form -> lemma), empty where there is none.

    Loading one takes up to 4 s (French, Portuguese: over a million forms), so only training reads them;
    a trained model keeps the few entries it can use (:func:`useful_lemmas`) and never needs them again.
    """
    if language not in LEMMA_LANGUAGES:
        return _LemmaTable({})
    with _LOCK:
        if language not in _LEMMAS:
            from spacy.util import load_language_data, registry

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                data = registry.lookups.get(language)
                loaded = load_language_data(data["lemma_lookup"]) if "lemma_lookup" in data else {}
                # spaCy's loader also reads lists; lemmas are maps
                _LEMMAS[language] = loaded if isinstance(loaded, dict) else {}
        return _LemmaTable(_LEMMAS[language])


def useful_lemmas(language: str, known: set[str]) -> dict[str, str]:
    """The entries of a language's lemma table whose lemma is one a model knows: the same features as the
    whole table for that model (an unknown lemma is no feature of it), in a few thousand entries."""
    return {form: lemma for form, lemma in full_lemmas(language).items_first() if lemma in known}


def tokenizers_built(languages: tuple[str, ...] | list[str]) -> bool:
    """Whether every one of ``languages`` has its tokenizer: a server still building them in the background
    answers, but a message in a language not built yet waits, and the building thread competes for the CPU."""
    return all(language in _PIPELINES for language in languages)


def is_prepared(language: str) -> bool:
    """Whether this process has built the language's tokenizer and read its lemma table already."""
    return language in _PIPELINES and (language not in LEMMA_LANGUAGES or language in _LEMMAS)


def prepare_training(language: str) -> None:
    """Build a language's tokenizer and read its lemma table: most of a small bot's training time (up to 4 s a
    language), done one language at a time so ``threadline train`` can show where it is."""
    pipeline(language)
    full_lemmas(language)


def warm_up(languages: tuple[str, ...] | list[str]) -> None:
    """Build the tokenizers, so the first message in each language does not pay for it."""
    for language in languages:
        pipeline(language)


def warm_up_in_background(languages: tuple[str, ...] | list[str]) -> threading.Thread:
    """Build the tokenizers in a daemon thread, in the order given (the default language first, say): a
    server answers while it runs, and never waits for it to stop."""
    thread = threading.Thread(target=warm_up, args=(list(languages),), name="tokenizer-warm-up", daemon=True)
    thread.start()
    return thread


def _tokens(text: str, language: str) -> list[tuple[str, bool]]:
    """Each token of ``text`` but spaces, and whether it is punctuation: spaCy's tokens.

    spaCy's rule-based tokenizer splits at whitespace first and reads each piece on its own, so the tokens of a
    piece are remembered (up to CHUNKS_REMEMBERED a language, then it starts over): a message of known words
    then costs no Doc. Chinese and Vietnamese segment the whole text and are always read whole.
    """
    nlp = pipeline(language)
    if language in _READ_WHOLE:
        return [(token.text, token.is_punct) for token in nlp(text) if not token.is_space]
    remembered = _CHUNK_TOKENS.setdefault(language, {})
    if len(remembered) >= CHUNKS_REMEMBERED:
        remembered.clear()
    found: list[tuple[str, bool]] = []
    for chunk in text.split():
        tokens = remembered.get(chunk)
        if tokens is None:
            tokens = remembered[chunk] = tuple(
                (token.text, token.is_punct) for token in nlp.tokenizer(chunk) if not token.is_space
            )
        found += tokens
    return found


def word_features(text: str, language: str, lemmas: Mapping[str, str] | None = None) -> list[str]:
    """The words of ``text`` as features: each word, its folded form and lemma where they differ, pairs.

    Lemmas come from ``lemmas`` (a trained model's own table) or the language's whole table, looked up as
    spaCy's lookup lemmatizer does (the lower-cased token's text; itself when the table has no entry).
    """
    tokens = _tokens(text.lower(), language)
    words = [token for token, punct in tokens if not punct]
    features = list(words)
    if language in LEMMA_LANGUAGES:
        table = full_lemmas(language) if lemmas is None else lemmas
        features += [f"~{lemma}" for token in words if (lemma := table.get(token, token)) and lemma != token]
    features += [folded for folded in (fold(w) for w in words) if folded not in words]
    if language in ("zh", "vi"):  # characters / syllables: pairs are the words
        features += [f"{a}_{b}" for a, b in pairwise(words)]
    return features
