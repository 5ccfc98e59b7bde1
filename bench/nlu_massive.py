"""The NLU on MASSIVE 1.1 (11 locales, 60 intents): intent accuracy and macro-F1, speed, size, language ID.

For each locale: train Threadline's intent model (nlu_models.intent) on
``train``, report ``test`` accuracy, macro-F1 and the expected calibration error
of the top intent's confidence (ECE; hyper-parameters were
chosen on ``dev`` only; ``--split dev`` shows those figures), the training
time, single-message predict latency (p50, p99: features and model, one
message at a time, as in chat), the pickled model's size and the process's
peak RSS. Then language identification (nlu_models.language) over all 11
locales' test utterances: without any prior, and with the thread's language
as prior (the thread so far is in that locale's language).

    .venv/bin/python bench/nlu_massive.py [--locales en-US,de-DE] [--split test] [--limit N]
        [--encoder use-multilingual-v3] [--zero-shot]

``--encoder NAME``: the sentence encoder's vectors beside the n-grams (the ``encoder`` extra,
nlu_models.encoder). ``--zero-shot``: one model trained on en-US ``train`` only, tested on every locale.

Data: ../shared/data/massive beside the checkout, or ``--data FOLDER`` (MASSIVE 1.1, CC BY 4.0, Amazon; see its README).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sklearn.metrics import f1_score  # noqa: E402

from nlu_models.base import LanguageHints  # noqa: E402
from nlu_models.encoder import features  # noqa: E402
from nlu_models.evaluate import calibration  # noqa: E402
from nlu_models.intent import IntentModel  # noqa: E402
from nlu_models.language import LanguageIdentifier  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "massive"
LOCALES = ("en-US", "zh-CN", "nl-NL", "fr-FR", "de-DE", "it-IT", "pl-PL", "pt-PT", "ro-RO", "es-ES", "vi-VN")


def rows(locale: str, folder: Path = DATA) -> dict[str, list[dict[str, str]]]:
    parts: dict[str, list[dict[str, str]]] = {"train": [], "dev": [], "test": []}
    with (folder / f"{locale}.jsonl").open(encoding="utf-8") as file:
        for line in file:
            row = json.loads(line)
            parts[row["partition"]].append(row)
    return parts


def percentile(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(len(values) * q))]


def evaluate(
    model: IntentModel, evaluation: list[dict[str, str]], language: str
) -> tuple[float, float, float, list[float]]:
    """(accuracy, macro-F1, ECE, per-message milliseconds) of one model on one locale's rows."""
    predicted, confidences, times = [], [], []
    model.probabilities(evaluation[0]["utt"], language)  # warm: first-call imports and caches
    for row in evaluation:
        began = time.perf_counter()
        classes, probabilities = model.probabilities(row["utt"], language) or ([""], [1.0])
        times.append((time.perf_counter() - began) * 1000)
        best = int(max(range(len(probabilities)), key=probabilities.__getitem__))
        predicted.append(classes[best])
        confidences.append(float(probabilities[best]))
    expected = [r["intent"] for r in evaluation]
    right = [p == e for p, e in zip(predicted, expected, strict=True)]
    ece = calibration(confidences, right, 0.0).ece
    f1 = f1_score(expected, predicted, labels=sorted(set(expected)), average="macro", zero_division=0)
    return sum(right) / len(right), float(f1), ece, times


def train(rows_: list[dict[str, str]], language: str, encoder: str | None) -> tuple[IntentModel, float]:
    started = time.perf_counter()
    model = IntentModel(
        [r["utt"] for r in rows_], [r["intent"] for r in rows_], [language] * len(rows_), encoder=encoder
    )
    return model, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--locales", default=",".join(LOCALES))
    parser.add_argument("--split", choices=("dev", "test"), default="test")
    parser.add_argument("--limit", type=int, default=0, help="only the first N evaluation rows per locale")
    parser.add_argument("--encoder", default=None, help="a sentence encoder beside the n-grams (nlu_models.encoder)")
    parser.add_argument("--encoder-weight", type=float, default=None, help="the encoder block's scale (tuning)")
    parser.add_argument("--zero-shot", action="store_true", help="train on en-US only, test every locale")
    parser.add_argument("--data", type=Path, default=DATA, help="the folder of MASSIVE's <locale>.jsonl files")
    parser.add_argument("--no-language-id", action="store_true", help="skip the language identification part")
    args = parser.parse_args()
    if args.encoder_weight is not None:
        features.WEIGHT = args.encoder_weight
    locales = [loc for loc in args.locales.split(",") if loc]
    how = f"encoder {args.encoder}" if args.encoder else "n-grams only"
    print(f"MASSIVE 1.1, evaluated on {args.split}, {how}" + (", trained on en-US only" if args.zero_shot else ""))
    print(
        f"\n{'locale':<7} {'accuracy':>8} {'macro-F1':>8} {'ECE':>6} {'train s':>8} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'model MB':>8}"
    )
    accuracies, f1s, eces, train_seconds, latencies = [], [], [], 0.0, []
    data = {locale: rows(locale, args.data) for locale in set(locales) | ({"en-US"} if args.zero_shot else set())}
    english = train(data["en-US"]["train"], "en", args.encoder) if args.zero_shot else None
    if english is not None:
        train_seconds = english[1]  # the one model's
    for locale in locales:
        language = locale.split("-")[0]
        model, seconds = english or train(data[locale]["train"], language, args.encoder)
        train_seconds += seconds if english is None else 0.0
        accuracy, f1, ece, times = evaluate(model, data[locale][args.split][: args.limit or None], language)
        size = len(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
        accuracies.append(accuracy)
        f1s.append(f1)
        eces.append(ece)
        latencies += times
        print(
            f"{locale:<7} {accuracy:>8.1%} {f1:>8.3f} {ece:>6.3f} {seconds:>8.1f} {statistics.median(times):>7.3f} "
            f"{percentile(times, 0.99):>7.3f} {size / 1e6:>8.1f}",
            flush=True,
        )
    print(
        f"{'average':<7} {statistics.mean(accuracies):>8.1%} {statistics.mean(f1s):>8.3f} "
        f"{statistics.mean(eces):>6.3f} {train_seconds:>8.1f} "
        f"{statistics.median(latencies):>7.3f} {percentile(latencies, 0.99):>7.3f}"
    )
    trained = "the en-US model" if args.zero_shot else f"all {len(locales)} locales"
    print(f"lowest locale accuracy {min(accuracies):.1%}; training {trained} {train_seconds:.0f} s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak process RSS {peak:.0f} MB; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.no_language_id:
        return

    languages = tuple(loc.split("-")[0] for loc in LOCALES)
    identifier = LanguageIdentifier(languages, "en")
    print(f"\nlanguage identification over the {args.split} utterances of {len(locales)} locales (11 candidates)")
    print(f"{'locale':<7} {'no prior':>9} {'thread prior':>13}")
    totals = [0, 0, 0]
    for locale in locales:
        language = locale.split("-")[0]
        evaluation = data[locale][args.split][: args.limit or None]
        plain = sum(identifier.identify(r["utt"], LanguageHints()).code == language for r in evaluation)
        prior = sum(
            identifier.identify(r["utt"], LanguageHints(thread_language=language)).code == language for r in evaluation
        )
        totals[0] += plain
        totals[1] += prior
        totals[2] += len(evaluation)
        print(f"{locale:<7} {plain / len(evaluation):>9.1%} {prior / len(evaluation):>13.1%}", flush=True)
    print(f"{'all':<7} {totals[0] / totals[2]:>9.2%} {totals[1] / totals[2]:>13.2%}")


if __name__ == "__main__":
    main()
