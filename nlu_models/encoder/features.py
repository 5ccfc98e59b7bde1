"""The encoder's sentence vectors as one more block of the intent model's features.

The block is dense (512 numbers a message) beside the sparse n-grams; the linear model learns weights for
both at once, so n-grams keep what they know of the bot's own words and the vectors add meaning shared
across languages. Pickled as the encoder's name and the block's weight: the weights of the network stay in
the installed package, and a loaded model finds its encoder again (nlu_models.encoder.registry).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from nlu_models.encoder.registry import encoder

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

# The block's scale against the L2-normalised n-gram blocks: the best of 0.5 to 1.5 on MASSIVE dev (BENCHMARKS.md)
WEIGHT = 1.0


class EncoderFeatures:
    def __init__(self, name: str, weight: float | None = None) -> None:
        self.name = name
        self.weight = WEIGHT if weight is None else weight
        self.languages = encoder(name).languages  # loads it now: a missing extra fails training, not a message

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """The training rows, dense (the second opinion's input, nlu_models.encoder.second_opinion)."""
        vectors: np.ndarray = encoder(self.name).encode(texts) * self.weight
        return vectors

    def matrix(self, vectors: np.ndarray) -> csr_matrix:
        """Those rows as scikit-learn's LinearSVC takes them beside the sparse n-grams."""
        from scipy.sparse import csr_matrix

        return csr_matrix(vectors)

    def vector(self, text: str) -> np.ndarray:
        vector: np.ndarray = encoder(self.name).encode([text])[0] * self.weight
        return vector

    def covers(self, language: str) -> bool:
        return language in self.languages

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        encoder(self.name)  # load the network with the model, so no customer's message waits for it
