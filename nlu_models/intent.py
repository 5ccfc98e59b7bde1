"""The intent classifier: a linear SVM over character n-grams and words, with calibrated confidences.

Chosen by measurement on MASSIVE dev (bench/nlu_massive.py, BENCHMARKS.md):
character 1-5-grams within words (typos, missing accents, Chinese without
spaces) plus words, their folded forms, lemmas and word pairs from
nlu_models.tokenize beat either alone by 1-2 points; a linear SVM beat
logistic regression at the same cost. An SVM's scores are not
probabilities, so they are turned into them by a softmax whose temperature
is fitted on cross-validated scores of the training examples themselves
(temperature scaling): a confidence of 0.8 then means right about 8 times
in 10, which is what the bot's ``nlu_threshold`` needs. A silent "none of
them" option scoring 0 (one-vs-rest margins are positive for a class that
claims the message) keeps gibberish and other topics low.

With the sentence encoder, a logistic regression on its vectors alone adds its log-probabilities to the
SVM's scores (nlu_models.encoder.second_opinion), and the temperature is fitted on that blend.

Prediction is done by hand on one sparse row (numpy), ~0.2 ms a message;
scikit-learn's ``transform`` + ``decision_function`` take ~1 ms. Only
training imports scikit-learn and SciPy (see nlu_models.linear).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from nlu_models.encoder.features import EncoderFeatures
from nlu_models.encoder.second_opinion import SecondOpinion
from nlu_models.linear import CharGramAnalyzer, TfidfFeatures, char_grams
from nlu_models.words import PreparedWords, tagged_words

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

C = 0.6
FOLDS = 3
CHAR_MIN_DF = 2  # n-grams of one example only: Chinese model 71 -> 26 MB for 0.1 point (MASSIVE dev)
NONE_SCORE_NO_WORD = 0.0
NONE_SCORE = -0.5  # measured: 0 sent a sixth of good demo messages to the fallback; -0.5 one in 60


class IntentModel:
    _encoder: EncoderFeatures | None = None  # a class default, so models saved before the encoder load
    _second: SecondOpinion | None = None  # likewise for models saved before the second opinion
    _coef: np.ndarray
    _dense_coef: np.ndarray

    def __init__(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        languages: Sequence[str],
        *,
        words: bool = True,
        encoder: str | None = None,
    ) -> None:
        """Train on ``texts`` (each in its language, which picks the word tokenizer).

        ``words=False``: on character n-grams only, a provisional model that needs no spaCy tokenizer or
        lemma table (most of a training's time), for a server to answer with while the full one trains.
        ``encoder``: the name of a sentence encoder whose vectors join the features (nlu_models.encoder);
        not for a provisional model, which must be quick.
        """
        tagged = [f"{language}\t{text}" for text, language in zip(texts, languages, strict=True)]
        self._words: TfidfFeatures | None = None
        if not words:
            self._chars = TfidfFeatures(CharGramAnalyzer(5, tagged=True), tagged, min_df=CHAR_MIN_DF)
            self._train(self._chars.matrix, labels)
            del self._chars.matrix
            return
        from scipy.sparse import hstack

        with PreparedWords(tagged) as words_:  # a helper process starts on the words while the characters are done
            self._chars = TfidfFeatures(CharGramAnalyzer(5, tagged=True), tagged, min_df=CHAR_MIN_DF)
            self._words = TfidfFeatures(words_.features().__getitem__, tagged)
            blocks = [self._chars.matrix, self._words.matrix]
            vectors = None
            if encoder is not None:
                self._encoder = EncoderFeatures(encoder)
                vectors = self._encoder.vectors(texts)
                blocks.append(self._encoder.matrix(vectors))
            self._train(hstack(blocks).tocsr(), labels, vectors)
            if self._encoder is not None:  # its rows of the coefficients, apart: its features are dense
                sparse = len(self._chars.vocabulary) + len(self._words.vocabulary)
                self._dense_coef = self._coef[sparse:]
                self._coef = self._coef[:sparse]
            del self._chars.matrix, self._words.matrix  # training data: not needed to predict, and large
            # Predicting needs only the lemma entries whose lemma is a feature of this model: a few thousand
            # instead of millions, so loading the model does not load spaCy's tables (seconds per language)
            known = {feature[1:] for feature in self._words.vocabulary if feature.startswith("~")}
            self._words.analyzer = WordAnalyzer(words_.lemmas(known))

    def _train(self, matrix: csr_matrix, labels: Sequence[str], vectors: np.ndarray | None = None) -> None:
        """``vectors``: the encoder's, for the second opinion on them (the temperature calibrates the blend)."""
        self.classes, self._coef, self._intercept = _fit(matrix, list(labels))
        if vectors is not None:
            self._second = SecondOpinion(vectors, labels, self.classes)
        self.temperature = _temperature(matrix, list(labels), vectors) if len(self.classes) > 2 else 1.0
        self._coef = self._coef.astype(np.float32)  # halves the model; scores agree to 1e-6

    def encodes(self, language: str) -> bool:
        """Whether the sentence encoder reads this language: it may then answer with no n-gram in common."""
        return self._encoder is not None and self._encoder.covers(language)

    def has_evidence(self, text: str, language: str) -> bool:
        return self.row(text, language)[0].size > 0

    def row(self, text: str, language: str) -> tuple[np.ndarray, np.ndarray]:
        tagged = f"{language}\t{text}"
        chars, char_weights = self._chars.features(tagged)
        if self._words is None:
            return chars, char_weights
        words, word_weights = self._words.features(tagged)
        return np.concatenate([chars, words + len(self._chars.vocabulary)]), np.concatenate(
            [char_weights, word_weights]
        )

    def probabilities(self, text: str, language: str) -> tuple[list[str], np.ndarray] | None:
        index, weights = self.row(text, language)
        encoded = self.encodes(language)
        if index.size == 0 and not encoded:
            return None
        scores = weights @ self._coef[index] + self._intercept
        if self._encoder is not None:
            vector = self._encoder.vector(text)
            scores += vector @ self._dense_coef
            if self._second is not None:
                scores += self._second.scores(vector)
        # not one known word ("purple" to a bot that never saw it): only character look-alikes speak for
        # any intent, so "none of them" gets a stronger say, unless the encoder reads the message's language
        # (a model without word features has none to miss: its "none of them" scores as in its calibration)
        known_word = encoded or self._words is None or bool((index >= len(self._chars.vocabulary)).any())
        none = NONE_SCORE if known_word else NONE_SCORE_NO_WORD
        # One-vs-rest margins: a class claims a message with a positive score. A silent extra "none of
        # them" option at 0 takes the probability when no class does (gibberish, another topic).
        return self.classes, _softmax(np.append(scores, none) / self.temperature)[:-1]

    def held_out_probabilities(
        self, texts: Sequence[str], labels: Sequence[str], languages: Sequence[str]
    ) -> tuple[np.ndarray, np.ndarray]:
        """(indices of the examples scored, their probabilities as ``probabilities`` gives them), each example's
        from a model fitted without it (FOLDS folds, on this model's features): what a message like it would
        score, for calibrating decisions on scores without a dev set (nlu_models.out_of_scope). Classes with
        fewer than FOLDS examples are left out. Training only: imports scikit-learn and SciPy."""
        from scipy.sparse import csr_matrix, hstack

        counts = Counter(labels)
        keep = np.array([i for i, label in enumerate(labels) if counts[label] >= FOLDS], dtype=np.int64)
        if len({labels[i] for i in keep}) < 2:
            return keep[:0], np.zeros((0, len(self.classes)))
        rows = [self.row(texts[i], languages[i]) for i in keep]
        indptr = np.cumsum([0] + [index.size for index, _ in rows])
        matrix = csr_matrix(
            (np.concatenate([w for _, w in rows]), np.concatenate([i for i, _ in rows]), indptr),
            shape=(len(rows), self._coef.shape[0]),
        )
        vectors = None
        if self._encoder is not None:
            vectors = self._encoder.vectors([texts[i] for i in keep])
            matrix = hstack([matrix, self._encoder.matrix(vectors)]).tocsr()
        y = np.array([labels[i] for i in keep])
        scores = np.full((len(keep), len(self.classes)), -1e9)
        _cross_scores(matrix, y, vectors if self._second is not None else None, self.classes, scores)
        words_from = len(self._chars.vocabulary)
        probabilities = np.empty_like(scores)
        for n, (index, _) in enumerate(rows):  # the "none of them" option as probabilities() gives it
            known_word = self.encodes(languages[keep[n]]) or self._words is None or bool((index >= words_from).any())
            none = NONE_SCORE if known_word else NONE_SCORE_NO_WORD
            probabilities[n] = _softmax(np.append(scores[n], none) / self.temperature)[:-1]
        return keep, probabilities


def _tagged_char_grams(tagged: str) -> list[str]:  # the analyzer of models saved before CharGramAnalyzer
    return char_grams(tagged.split("\t", 1)[1], 5)


class WordAnalyzer:
    """The word features of a trained model, with its own lemma entries (saved with the model)."""

    def __init__(self, lemmas: dict[str, dict[str, str]]) -> None:
        self.lemmas = lemmas

    def __call__(self, tagged: str) -> list[str]:
        return tagged_words(tagged, self.lemmas.get(tagged.split("\t", 1)[0], {}))


def _fit(matrix: csr_matrix, labels: list[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    from sklearn.svm import LinearSVC

    model = LinearSVC(C=C, random_state=0).fit(matrix, labels)
    classes = [str(c) for c in model.classes_]
    coef, intercept = model.coef_, model.intercept_
    if coef.shape[0] == 1:  # two classes: one separating direction
        coef = np.vstack([-coef[0], coef[0]]) / 2
        intercept = np.array([-intercept[0], intercept[0]]) / 2
    return classes, np.ascontiguousarray(coef.T), intercept


def _softmax(scores: np.ndarray) -> np.ndarray:
    scores = scores - scores.max()
    exp = np.exp(scores)
    probabilities: np.ndarray = exp / exp.sum()
    return probabilities


def _cross_scores(
    x: csr_matrix, y: np.ndarray, vectors: np.ndarray | None, classes: list[str], out: np.ndarray
) -> None:
    """Each row's scores from a model fitted without it (FOLDS folds), into ``out``'s columns of ``classes``;
    with ``vectors``, the second opinion's too, cross-fitted as well (fitted on its rows it is over-confident)."""
    from sklearn.model_selection import StratifiedKFold

    column = {c: n for n, c in enumerate(classes)}
    for train, test in StratifiedKFold(FOLDS, shuffle=True, random_state=0).split(x, y):
        fitted, coef, intercept = _fit(x[train], list(y[train]))
        scores = np.asarray(x[test] @ coef + intercept)
        if vectors is not None:
            scores += SecondOpinion(vectors[train], list(y[train]), fitted).scores(vectors[test])
        out[np.ix_(test, [column[c] for c in fitted])] = scores


def _temperature(matrix: csr_matrix, labels: list[str], vectors: np.ndarray | None = None) -> float:
    """The softmax temperature that makes cross-validated scores best predict the right intent (NLL)."""
    counts = Counter(labels)
    keep = [i for i, label in enumerate(labels) if counts[label] >= FOLDS]
    if len(set(labels[i] for i in keep)) < 2:
        return 1.0
    y = np.array([labels[i] for i in keep])
    everything = sorted(set(y))
    column = {c: n for n, c in enumerate(everything)}
    scores = np.full((len(keep), len(everything) + 1), -1e9)
    scores[:, -1] = NONE_SCORE  # the "none of them" option (see IntentModel.probabilities)
    _cross_scores(matrix[keep], y, None if vectors is None else vectors[keep], everything, scores)
    truth = np.array([column[label] for label in y])
    best, best_loss = 1.0, math.inf
    for temperature in np.geomspace(0.02, 2.0, 60):
        z = scores / temperature
        z = z - z.max(axis=1, keepdims=True)
        loss = float(-(z[np.arange(len(truth)), truth] - np.log(np.exp(z).sum(axis=1))).sum())
        if loss < best_loss:
            best, best_loss = float(temperature), loss
    return best
