"""Linear models over character n-grams, fitted by scikit-learn and evaluated on one message by hand.

``vectorizer.transform`` + ``predict_proba`` cost ~1 ms per message, too
slow for chat traffic, while the same arithmetic on one sparse row with
numpy takes ~0.1 ms. Both the intent model and the in-domain language model
use this. scikit-learn and SciPy are imported by the functions that train
(1.5 s of imports): a server that loads a trained model never imports them.
"""

from __future__ import annotations

import math
import unicodedata
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression


def normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).lower().split())


def fit_linear(matrix: object, labels: list[str]) -> LogisticRegression:
    """saga with a loose tolerance: 0.3 s instead of 3-15 s for lbfgs, same held-out accuracy."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=20, solver="saga", max_iter=300, tol=1e-3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(matrix, labels)


class Linear:
    """A fitted multinomial logistic regression, evaluated on one sparse row by hand."""

    def __init__(self, model: LogisticRegression) -> None:
        self.classes = [str(c) for c in model.classes_]
        coef = model.coef_
        if coef.shape[0] == 1:  # binary problems store one row; make it two for a softmax
            coef = np.vstack([-coef[0], coef[0]])
            intercept = np.array([-model.intercept_[0], model.intercept_[0]])
        else:
            intercept = model.intercept_
        self.coef_by_feature = np.ascontiguousarray(coef.T)  # features x classes
        self.intercept = intercept

    def probabilities(self, index: np.ndarray, weights: np.ndarray) -> np.ndarray:
        logits = weights @ self.coef_by_feature[index] + self.intercept
        logits -= logits.max()
        exp = np.exp(logits)
        probabilities: np.ndarray = exp / exp.sum()
        return probabilities


def char_grams(text: str, longest: int) -> list[str]:
    """Character 1..longest-grams within words (padded with a space each side), of the normalised text."""
    grams: list[str] = []
    for word in normalise(text).split():
        grams += word_grams(word, longest)
    return grams


def word_grams(word: str, longest: int) -> list[str]:
    """One word's 1..longest-grams: its characters, then the grams of the word padded with a space each side
    (every gram of two or more characters holds one of the word's; the padding alone is no gram)."""
    grams = list(word)
    padded = f" {word} "
    for n in range(2, longest + 1):
        grams += [padded[i : i + n] for i in range(len(padded) - n + 1)]
    return grams


def char_grams_1_4(text: str) -> list[str]:  # the analyzer of language models saved before CharGramAnalyzer
    return char_grams(text, 4)


class CharGramAnalyzer:
    """Character 1..longest-grams within words, as an analyzer whose features are known word by word, so a
    model can remember each word's (chat messages repeat their words); ``tagged``: each text is its language,
    a tab, then the text (the intent model's rows), and the grams are the text's."""

    def __init__(self, longest: int, *, tagged: bool = False) -> None:
        self.longest, self.tagged = longest, tagged

    def words(self, text: str) -> list[str]:
        return normalise(text.split("\t", 1)[1] if self.tagged else text).split()

    def __call__(self, text: str) -> list[str]:
        grams: list[str] = []
        for word in self.words(text):
            grams += word_grams(word, self.longest)
        return grams


WORDS_REMEMBERED = 20_000  # per feature space; ~4 MB of index arrays at most, then it starts over
_NO_FEATURES = np.zeros(0, dtype=np.int64)


class TfidfFeatures:
    """One TF-IDF feature space fitted by scikit-learn, computed for one text by hand (see the module doc)."""

    _by_word: dict[str, np.ndarray] | None = None  # word -> its features' indices, for a CharGramAnalyzer

    def __init__(self, analyzer: Callable[[str], list[str]], texts: Sequence[str], min_df: int = 1) -> None:
        """``min_df``: keep features of at least that many texts, unless that keeps none (a handful of examples
        sharing no n-gram); texts with no features at all give an empty space, not an error."""
        from scipy.sparse import csr_matrix
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.analyzer = analyzer
        for least in dict.fromkeys((min_df, 1)):
            vectorizer = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, min_df=least)
            try:
                self.matrix: csr_matrix = vectorizer.fit_transform(texts)  # training rows; a trained model deletes them
            except ValueError:  # "empty vocabulary" / "After pruning, no terms remain"
                continue
            self.vocabulary: dict[str, int] = vectorizer.vocabulary_
            self.idf = vectorizer.idf_
            return
        self.matrix = csr_matrix((len(texts), 0))
        self.vocabulary = {}
        self.idf = np.zeros(0)

    def __getstate__(self) -> dict[str, object]:
        state = self.__dict__.copy()
        state.pop("_by_word", None)  # remembered while serving, not part of the model
        return state

    def features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(feature indices, l2-normalised weights); empty when no known feature occurs (no evidence at all)."""
        found = self._indices(text)
        if not found.size:
            return _NO_FEATURES, np.zeros(0)
        index, counts = _counted(found)
        weights = (1.0 + np.log(counts)) * self.idf[index]
        return index, weights / math.sqrt(weights @ weights)

    def _indices(self, text: str) -> np.ndarray:
        """The index of every known feature occurrence in the text (repeated as often as it occurs)."""
        known = self.vocabulary.get
        if not isinstance(self.analyzer, CharGramAnalyzer):  # words, or a model saved before CharGramAnalyzer
            return np.array([i for g in self.analyzer(text) if (i := known(g)) is not None], dtype=np.int64)
        if self._by_word is None or len(self._by_word) >= WORDS_REMEMBERED:
            self._by_word = {}
        remembered, longest = self._by_word, self.analyzer.longest
        parts = []
        for word in self.analyzer.words(text):
            indices = remembered.get(word)
            if indices is None:
                grams = word_grams(word, longest)
                indices = remembered[word] = np.array([i for g in grams if (i := known(g)) is not None], np.int64)
            parts.append(indices)
        return np.concatenate(parts) if parts else _NO_FEATURES


def _counted(found: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(found, return_counts=True)`` for the few hundred indices of one message, without the generic
    function's checks and copies (a fifth of its time at that size)."""
    ordered = np.sort(found)
    first = np.empty(ordered.size, dtype=bool)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    counts = np.empty(starts.size, dtype=np.int64)
    counts[:-1] = starts[1:] - starts[:-1]
    counts[-1] = ordered.size - starts[-1]
    return ordered[first], counts


def CharGrams(texts: Sequence[str]) -> TfidfFeatures:
    """Character 1-4-grams within words: the language model's features."""
    return TfidfFeatures(CharGramAnalyzer(4), texts)
