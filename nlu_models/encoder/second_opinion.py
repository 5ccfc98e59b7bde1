"""A second opinion on the encoder's vectors: a logistic regression on them alone, added to the SVM's scores.

Why: the intent model's linear SVM weighs the 512 numbers beside thousands of n-grams under one
regularisation; a model of the vectors alone, whose log-probabilities join the SVM's margins with a small
weight, read 15 more of MASSIVE's 8,132 dev utterances right (4 locales), but only 7 more of 32,714 on test
(11 locales). It was the simplest of the variants that met the rule set before the search (a one-hidden-layer
network, stacking, nearest neighbours; BENCHMARKS.md). Trained by scikit-learn; predicting is one matrix
product by hand (numpy), so a loaded model imports neither scikit-learn nor SciPy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

C = 10.0  # the logistic regression's: the best of 1, 3, 10 and 30 on MASSIVE dev
# The opinion's weight on the SVM's margin scale: 0.2 on the calibrated scale at the temperature all four dev
# locales fitted (0.225), the best of 0.1 to 1.0 on MASSIVE dev
BLEND = 0.045
# in the training hash of a model with the encoder (nlu_models.artifact): saved ones retrain once to gain it
ENCODER_TRAINING = "second-opinion-lr-1"


class SecondOpinion:
    """log P(intent | vector) of a multinomial logistic regression, in the order of ``classes``."""

    def __init__(self, vectors: np.ndarray, labels: Sequence[str], classes: Sequence[str]) -> None:
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=C, max_iter=2000).fit(vectors, list(labels))
        known = [str(c) for c in model.classes_]
        coef, intercept = model.coef_, model.intercept_
        if coef.shape[0] == 1:  # two classes: one direction, as a softmax of two opposite halves
            coef = np.vstack([-coef[0], coef[0]]) / 2
            intercept = np.array([-intercept[0], intercept[0]]) / 2
        # a class the regression never saw (a fold without it) gets no say: a very low log-probability
        self._coef = np.zeros((vectors.shape[1], len(classes)), dtype=np.float32)
        self._intercept = np.full(len(classes), -1e9)
        for n, name in enumerate(classes):
            if name in known:
                self._coef[:, n] = coef[known.index(name)]
                self._intercept[n] = intercept[known.index(name)]

    def log_probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """One row of log-probabilities per row of ``vectors`` (or one vector: one row)."""
        z = vectors @ self._coef + self._intercept
        top = z.max(axis=-1, keepdims=True)
        result: np.ndarray = z - top - np.log(np.exp(z - top).sum(axis=-1, keepdims=True))
        return result

    def scores(self, vectors: np.ndarray) -> np.ndarray:
        """What the opinion adds to the SVM's margins."""
        result: np.ndarray = BLEND * self.log_probabilities(vectors)
        return result
