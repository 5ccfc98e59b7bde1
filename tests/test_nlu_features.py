"""The n-gram features computed by hand for one message are scikit-learn's, whether its words are new to the
model or remembered from earlier messages, in scripts with and without spaces."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from nlu_models.linear import CharGramAnalyzer, TfidfFeatures

TRAINING = [
    "I want to return my shoes",
    "where is my order",
    "où est ma commande",
    "je veux retourner mes chaussures",
    "我想退货",
    "我的订单在哪里",
    "Wo ist meine Bestellung?",
    "ΘΈΛΩ ΝΑ ΕΠΙΣΤΡΈΨΩ ΤΟ ΠΑΠΟΎΤΣΙ",
]
MESSAGES = [
    "return return return my order order",  # repeated grams: sublinear counts
    "OÙ est   ma commande ??",  # case, accents and spaces as typed
    "我想退货我想退货",
    "zzzz qqqq",  # nothing known
    "",
    "ΤΟ ΠΑΠΟΎΤΣΙ μου",
]


def expected(analyzer: CharGramAnalyzer, text: str) -> dict[int, float]:
    vectorizer = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True).fit(TRAINING_OF[analyzer.tagged])
    row = vectorizer.transform([text]).tocoo()
    return {int(i): float(w) for i, w in zip(row.col, row.data, strict=True)}


TRAINING_OF = {False: TRAINING, True: [f"xx\t{text}" for text in TRAINING]}


@pytest.mark.parametrize("tagged", [False, True])
def test_features_are_scikit_learns_for_new_and_remembered_words(tagged: bool) -> None:
    analyzer = CharGramAnalyzer(4 if not tagged else 5, tagged=tagged)
    features = TfidfFeatures(analyzer, TRAINING_OF[tagged])
    for _ in range(2):  # the second time, every word's features are remembered
        for message in MESSAGES:
            text = f"xx\t{message}" if tagged else message
            index, weights = features.features(text)
            got = {int(i): float(w) for i, w in zip(index, weights, strict=True)}
            want = expected(analyzer, text)
            assert got.keys() == want.keys(), message
            assert np.allclose([got[i] for i in want], list(want.values())), message


WORD_MESSAGES = [
    "hi!!  how are you?",
    "t-shirt, size 42.5? don't\tstop\n\nnow",
    "l'ordine n°42... (urgente) co-op's e-mail: a@b.com 12:30pm",
    "où est   ma commande ?? 😀merci",
    "Wo ist meine Bestellung?! U.S.A.",
]


@pytest.mark.parametrize("language", ["en", "fr", "de", "it", "es", "pt", "nl", "ro", "pl"])
def test_remembered_pieces_give_spacys_own_tokens(language: str) -> None:
    """Word features read a message's whitespace-separated pieces from memory once seen: the tokens must be
    those spaCy gives for the whole message, the first time and the times after."""
    from nlu_models.tokenize import _tokens, pipeline

    for text in WORD_MESSAGES * 2:  # the second round is read from memory
        lowered = text.lower()
        whole = [(t.text, t.is_punct) for t in pipeline(language)(lowered) if not t.is_space]
        assert _tokens(lowered, language) == whole
