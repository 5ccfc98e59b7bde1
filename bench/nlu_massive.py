"""The NLU on MASSIVE 1.1 (11 locales, 60 intents): intent accuracy and macro-F1, speed, size, language ID.

For each locale: train Threadline's intent model (nlu_models.intent) on
``train``, report ``test`` accuracy, macro-F1 and the expected calibration error
of the top intent's confidence (ECE; hyper-parameters were
chosen on ``dev`` only; ``--split dev`` shows those figures), the training
time, single-message predict latency (p50, p99: features and model, one
message at a time, as in chat), the pickled model's size and the process's
peak RSS. Then language identification (nlu_models.language) over all 11
locales' test utterances: without any prior, and with the thread's language
as prior (the thread so far is in that locale's language); and the same on
their unaccented copies (nlu_models.accents.fold), as customers type on a
phone without their language's keyboard.

    .venv/bin/python bench/nlu_massive.py [--locales en-US,de-DE] [--split test] [--limit N] [--language-only]
        [--out-of-scope | --only-out-of-scope] [--data DIR] [--encoder use-multilingual-v3] [--zero-shot]
        [--encoder-weight W] [--svm-c C]

``--encoder NAME``: the sentence encoder's vectors beside the n-grams (the ``encoder`` extra,
nlu_models.encoder). ``--zero-shot``: one model trained on en-US ``train`` only, tested on every locale.
``--encoder-weight W`` and ``--svm-c C`` are for tuning on ``dev``: the encoder block's scale
(nlu_models.encoder.features.WEIGHT) and the linear SVM's regularisation (nlu_models.intent.C).

``--out-of-scope`` adds out-of-scope detection on held-out MASSIVE domains
(bench/massive_out_of_scope.py, with ``--encoder`` too); ``--only-out-of-scope`` runs just that.

Data: ../shared/data/massive beside the checkout (MASSIVE 1.1, CC BY 4.0, Amazon; see its README), or the
folder THREADLINE_MASSIVE_DATA names.
"""

from __future__ import annotations

import argparse
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

from bench.massive_data import DATA, LOCALES, rows  # noqa: E402
from bench.massive_out_of_scope import report as out_of_scope_report  # noqa: E402
from nlu_models import intent  # noqa: E402
from nlu_models.accents import fold  # noqa: E402
from nlu_models.base import LanguageHints  # noqa: E402
from nlu_models.encoder import features  # noqa: E402
from nlu_models.evaluate import calibration  # noqa: E402
from nlu_models.intent import IntentModel  # noqa: E402
from nlu_models.language import LanguageIdentifier  # noqa: E402


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
    parser.add_argument("--language-only", action="store_true", help="language identification only")
    parser.add_argument("--out-of-scope", action="store_true", help="also out-of-scope detection on unseen domains")
    parser.add_argument("--only-out-of-scope", action="store_true", help="only out-of-scope detection")
    parser.add_argument("--data", type=Path, default=DATA, help="MASSIVE 1.1's folder")
    parser.add_argument("--encoder", default=None, help="a sentence encoder beside the n-grams (nlu_models.encoder)")
    parser.add_argument("--encoder-weight", type=float, default=None, help="the encoder block's scale (tuning)")
    parser.add_argument("--svm-c", type=float, default=None, help="the linear SVM's C (tuning)")
    parser.add_argument("--zero-shot", action="store_true", help="train on en-US only, test every locale")
    args = parser.parse_args()
    if args.encoder_weight is not None:
        features.WEIGHT = args.encoder_weight
    if args.svm_c is not None:
        intent.C = args.svm_c
    locales = [loc for loc in args.locales.split(",") if loc]
    if args.only_out_of_scope:
        out_of_scope_report(locales, args.split, args.limit, args.encoder)
        return
    data = {locale: rows(locale, args.data) for locale in set(locales) | ({"en-US"} if args.zero_shot else set())}
    if not args.language_only:
        intents(data, locales, args)
    language_id({locale: data[locale] for locale in locales}, args.split, args.limit)
    if args.out_of_scope:
        out_of_scope_report(locales, args.split, args.limit, args.encoder)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak process RSS {peak:.0f} MB")


def intents(data: dict[str, dict[str, list[dict[str, str]]]], locales: list[str], args: argparse.Namespace) -> None:
    """Intent accuracy per locale: a model per locale, or the en-US model for all (``--zero-shot``)."""
    how = (f"encoder {args.encoder}" if args.encoder else "n-grams only") + f", linear SVM C {intent.C}"
    print(f"MASSIVE 1.1, evaluated on {args.split}, {how}" + (", trained on en-US only" if args.zero_shot else ""))
    print(
        f"\n{'locale':<7} {'accuracy':>8} {'macro-F1':>8} {'ECE':>6} {'train s':>8} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'model MB':>8}"
    )
    accuracies, f1s, eces, train_seconds, latencies = [], [], [], 0.0, []
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
            f"{locale:<7} {accuracy:>8.2%} {f1:>8.3f} {ece:>6.3f} {seconds:>8.1f} {statistics.median(times):>7.3f} "
            f"{percentile(times, 0.99):>7.3f} {size / 1e6:>8.1f}",
            flush=True,
        )
    print(
        f"{'average':<7} {statistics.mean(accuracies):>8.2%} {statistics.mean(f1s):>8.3f} "
        f"{statistics.mean(eces):>6.3f} {train_seconds:>8.1f} "
        f"{statistics.median(latencies):>7.3f} {percentile(latencies, 0.99):>7.3f}"
    )
    trained = "the en-US model" if args.zero_shot else f"all {len(locales)} locales"
    print(f"lowest locale accuracy {min(accuracies):.2%}; training {trained} {train_seconds:.0f} s")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def language_id(data: dict[str, dict[str, list[dict[str, str]]]], split: str, limit: int) -> None:
    """Each utterance alone, among all 11 languages: as written and unaccented, without and with a prior."""
    languages = tuple(loc.split("-")[0] for loc in LOCALES)
    identifier = LanguageIdentifier(languages, "en")
    print(f"\nlanguage identification over the {split} utterances of {len(data)} locales (11 candidates)")
    print(f"{'locale':<7} {'no prior':>9} {'thread prior':>13} {'unaccented':>11} {'+ prior':>8} {'us/msg':>7}")
    totals = [0, 0, 0, 0, 0]
    seconds = 0.0
    for locale, parts in data.items():
        language = locale.split("-")[0]
        evaluation = [r["utt"] for r in parts[split][: limit or None]]
        counts = []
        for texts in (evaluation, [fold(t) for t in evaluation]):
            began = time.perf_counter()
            counts.append(sum(identifier.identify(t, LanguageHints()).code == language for t in texts))
            seconds += time.perf_counter() - began
            hints = LanguageHints(thread_language=language)
            counts.append(sum(identifier.identify(t, hints).code == language for t in texts))
        for position, count in enumerate(counts):
            totals[position] += count
        totals[4] += len(evaluation)
        n = len(evaluation)
        print(
            f"{locale:<7} {counts[0] / n:>9.1%} {counts[1] / n:>13.1%} {counts[2] / n:>11.1%} {counts[3] / n:>8.1%}",
            flush=True,
        )
    n = totals[4]
    print(
        f"{'all':<7} {totals[0] / n:>9.2%} {totals[1] / n:>13.2%} {totals[2] / n:>11.2%} {totals[3] / n:>8.2%} "
        f"{seconds / (2 * n) * 1e6:>7.0f}"
    )


if __name__ == "__main__":
    main()
