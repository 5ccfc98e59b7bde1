"""A character n-gram language model of our 11 languages, shipped as a table: which language a text's letters
look like, in microseconds.

Naive Bayes over character 1-5-grams within words, built from MASSIVE 1.1's ``train`` split (short requests
to a voice assistant, the closest public text to chat; CC BY 4.0, Amazon: see ``tables/LANGUAGE_GRAMS.md``),
each utterance with its accent-folded copy, so "e muon doi tra giay" reads as Vietnamese as "em muốn đổi trả
giày" does. Grams seen fewer than three times are dropped. Build it again with::

    python -m nlu_models.language_grams ../shared/data/massive

It replaces langdetect, whose several random trials per message cost about ten times what the whole
identifier costs now (BENCHMARKS.md): a lookup per gram, once per word, and one sum per message.
"""

from __future__ import annotations

import functools
import json
import math
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path

import numpy as np

from nlu_models.accents import fold

TABLE = Path(__file__).parent / "tables" / "language_grams.npz"
LONGEST = 5
MIN_COUNT = 3
SMOOTHING = 0.5
LOCALES = ("en-US", "zh-CN", "nl-NL", "fr-FR", "de-DE", "it-IT", "pl-PL", "pt-PT", "ro-RO", "es-ES", "vi-VN")


_WORD = re.compile(r"\w+")
UNKNOWN_LANGUAGE = -20.0  # a gram's log-probability in a language the table does not have


def words(text: str) -> list[str]:
    """The words the table is built on: runs of letters and digits of the lower-cased NFC text."""
    return _WORD.findall(unicodedata.normalize("NFC", text).lower())


def word_grams(word: str) -> list[str]:
    """Character 1..5-grams of one word, padded with a space each side."""
    padded = f" {word} "
    size = len(padded)
    out: list[str] = []
    for n in range(1, LONGEST + 1):
        out += [padded[i : i + n] for i in range(size - n + 1)]
    return [g for g in out if g != " "]


class LanguageGrams:
    """The table, for a bot's languages: the log-likelihood of one word under each."""

    def __init__(self, languages: tuple[str, ...]) -> None:
        index, all_languages, table = _load()
        self.languages = languages
        self._index = index
        columns = [
            table[:, all_languages.index(code)] if code in all_languages else np.full(len(table), UNKNOWN_LANGUAGE)
            for code in languages
        ]
        self._table = np.ascontiguousarray(np.stack(columns, axis=1), dtype=np.float32)

    def word(self, word: str) -> tuple[np.ndarray, int]:
        """(the word's log-likelihood in each of ``languages``, how many of its grams the table knows)."""
        index = self._index
        rows = [index[g] for g in word_grams(word) if g in index]
        if not rows:
            return np.zeros(len(self.languages), dtype=np.float32), 0
        return self._table[rows].sum(axis=0), len(rows)


@functools.cache
def _load() -> tuple[dict[str, int], list[str], np.ndarray]:
    """Read once per process (about 0.1 s); every identifier shares it, and a pickled model does not carry it."""
    with np.load(TABLE) as data:
        vocabulary = str(data["grams"]).split("\n")
        languages = str(data["languages"]).split(",")
        table = data["log_probabilities"].astype(np.float32)
    return {gram: row for row, gram in enumerate(vocabulary)}, languages, table


def build(folder: Path) -> None:
    counts: dict[str, Counter[str]] = {}
    for locale in LOCALES:
        counter: Counter[str] = Counter()
        with (folder / f"{locale}.jsonl").open(encoding="utf-8") as file:
            for line in file:
                row = json.loads(line)
                if row["partition"] != "train":
                    continue
                for word in words(row["utt"]):
                    counter.update(word_grams(word))
                    folded = fold(word)
                    if folded != word:
                        counter.update(word_grams(folded))
        counts[locale.split("-")[0]] = counter
    total: Counter[str] = Counter()
    for counter in counts.values():
        total.update(counter)
    vocabulary = sorted(g for g, c in total.items() if c >= MIN_COUNT and "\n" not in g)
    table = np.zeros((len(vocabulary), len(counts)), dtype=np.float32)
    for column, counter in enumerate(counts.values()):
        mass = sum(counter[g] for g in vocabulary) + SMOOTHING * len(vocabulary)
        table[:, column] = [math.log((counter[g] + SMOOTHING) / mass) for g in vocabulary]
    np.savez_compressed(
        TABLE,
        grams=np.array("\n".join(vocabulary)),
        languages=np.array(",".join(counts)),
        log_probabilities=table.astype(np.float16),
    )
    print(f"{len(vocabulary)} grams x {len(counts)} languages -> {TABLE.name}, {TABLE.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    build(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/massive"))
