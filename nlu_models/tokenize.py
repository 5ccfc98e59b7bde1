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
from typing import Any

import spacy

from nlu_models.entities import fold

log = logging.getLogger(__name__)
logging.getLogger("spacy").setLevel(logging.WARNING)  # "Created vocabulary" for every language otherwise
LEMMA_LANGUAGES = ("en", "nl", "fr", "de", "it", "pt", "ro", "es")
_PIPELINES: dict[str, Any] = {}
_LOCK = threading.Lock()


def pipeline(language: str) -> Any:
    """spaCy's blank pipeline for a language, with the lookup lemmatizer where tables exist (built once)."""
    with _LOCK:
        if language not in _PIPELINES:
            config = {"nlp": {"tokenizer": {"use_pyvi": False}}} if language == "vi" else {}
            nlp = spacy.blank(language, config=config)
            if language in LEMMA_LANGUAGES:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
                    nlp.initialize()
            _PIPELINES[language] = nlp
        return _PIPELINES[language]


def word_features(text: str, language: str) -> list[str]:
    """The words of ``text`` as features: each word, its folded form and lemma where they differ, pairs."""
    nlp = pipeline(language)
    doc = nlp(text.lower())
    words = [token.text for token in doc if not token.is_space and not token.is_punct]
    features = list(words)
    if language in LEMMA_LANGUAGES:
        features += [f"~{token.lemma_}" for token in doc
                     if token.lemma_ and token.lemma_ != token.text and not token.is_punct]
    features += [folded for folded in (fold(w) for w in words) if folded not in words]
    if language in ("zh", "vi"):  # characters / syllables: pairs are the words
        features += [f"{a}_{b}" for a, b in zip(words, words[1:])]
    return features
