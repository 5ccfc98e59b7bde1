"""Words of a message, per language, as features: spaCy's blank tokenizers, lower case, accents folded, lemmas.

No model is downloaded: ``spacy.blank`` brings each language's tokenizer
rules, and spacy-lookups-data the lemma tables of English, Dutch, French,
German, Italian, Portuguese, Romanian and Spanish. Chinese is split into
characters (spaCy's default segmenter, which needs nothing installed) and
read as character pairs too; Vietnamese writes one syllable per space-separated
token, so neighbouring syllables are paired into words ("giày chạy" -> "giày_chạy").
The folded copies ("grosse" for "Größe", "pedido" for "pédido") catch the
missing accents of fast typing.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Mapping
from itertools import pairwise
from typing import Any

import spacy
from spacy.util import load_language_data, registry

from nlu_models.entities import fold

log = logging.getLogger(__name__)
logging.getLogger("spacy").setLevel(logging.WARNING)  # "Created vocabulary" for every language otherwise
LEMMA_LANGUAGES = ("en", "nl", "fr", "de", "it", "pt", "ro", "es")
_PIPELINES: dict[str, Any] = {}
_LEMMAS: dict[str, dict[str, str]] = {}
_LOCK = threading.Lock()


def pipeline(language: str) -> Any:
    """spaCy's blank pipeline for a language: its tokenizer (built once, in well under a second)."""
    with _LOCK:
        if language not in _PIPELINES:
            config = {"nlp": {"tokenizer": {"use_pyvi": False}}} if language == "vi" else {}
            _PIPELINES[language] = spacy.blank(language, config=config)
        return _PIPELINES[language]


def full_lemmas(language: str) -> Mapping[str, str]:
    """spacy-lookups-data's whole lemma table of a language (word form -> lemma), empty where there is none.

    Loading one takes up to 4 s (French, Portuguese: over a million forms), so only training reads them;
    a trained model keeps the few entries it can use (:func:`useful_lemmas`) and never needs them again.
    """
    if language not in LEMMA_LANGUAGES:
        return {}
    with _LOCK:
        if language not in _LEMMAS:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                data = registry.lookups.get(language)
                loaded = load_language_data(data["lemma_lookup"]) if "lemma_lookup" in data else {}
                table = loaded if isinstance(loaded, dict) else {}  # spaCy's loader also reads lists; lemmas are maps
                # a few tables list several lemmas for a form: spaCy's lookup lemmatizer takes the first
                _LEMMAS[language] = {
                    form: (lemma[0] if lemma else form) if isinstance(lemma, list) else lemma
                    for form, lemma in table.items()
                }
        return _LEMMAS[language]


def useful_lemmas(language: str, known: set[str]) -> dict[str, str]:
    """The entries of a language's lemma table whose lemma is one a model knows: the same features as the
    whole table for that model (an unknown lemma is no feature of it), in a few thousand entries."""
    return {form: lemma for form, lemma in full_lemmas(language).items() if lemma in known}


def prepare_training(language: str) -> None:
    """Build a language's tokenizer and read its lemma table: most of a small bot's training time (up to 4 s a
    language), done one language at a time so ``threadline train`` can show where it is."""
    pipeline(language)
    full_lemmas(language)


def warm_up(languages: tuple[str, ...] | list[str]) -> None:
    """Build the tokenizers before serving, so the first message in each language does not pay for it."""
    for language in languages:
        pipeline(language)


def word_features(text: str, language: str, lemmas: Mapping[str, str] | None = None) -> list[str]:
    """The words of ``text`` as features: each word, its folded form and lemma where they differ, pairs.

    Lemmas come from ``lemmas`` (a trained model's own table) or the language's whole table, looked up as
    spaCy's lookup lemmatizer does (the lower-cased token's text; itself when the table has no entry).
    """
    nlp = pipeline(language)
    doc = nlp(text.lower())
    words = [token.text for token in doc if not token.is_space and not token.is_punct]
    features = list(words)
    if language in LEMMA_LANGUAGES:
        table = full_lemmas(language) if lemmas is None else lemmas
        features += [
            f"~{lemma}"
            for token in doc
            if not token.is_punct and (lemma := table.get(token.text, token.text)) and lemma != token.text
        ]
    features += [folded for folded in (fold(w) for w in words) if folded not in words]
    if language in ("zh", "vi"):  # characters / syllables: pairs are the words
        features += [f"{a}_{b}" for a, b in pairwise(words)]
    return features
