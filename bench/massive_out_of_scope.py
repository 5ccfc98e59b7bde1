"""Out-of-scope detection on MASSIVE: domains the model never trained on, in each of the 11 locales.

MASSIVE's 18 scenarios are split three ways. The model's intents are those of
IN_SCOPE (trained on their ``train`` rows). The other twelve (those the
background corpus in nlu_models/data/ is drawn from, and those it could be)
are held out in FOLDS: each fold trains without its scenarios' background
utterances and is tested on their ``test`` (or ``dev``) utterances, together
with transport, which the corpus never holds. So every figure is for domains
the background class never saw, and every scenario is tested once.
A message reaches the fallback when the background class wins
(nlu_models.out_of_scope) or the best intent's confidence is under the
default ``nlu_threshold``. Reported per locale: in-scope accuracy (a fallback
counts as wrong, averaged over the folds) and the share of held-out
utterances that reach the fallback (pooled over the folds), without and with
the background class.
"""

from __future__ import annotations

import statistics

from bench.massive_data import rows
from bots.types import OUT_OF_SCOPE
from nlu_models.intent import IntentModel
from nlu_models.out_of_scope import calibrated_cut, in_scope, with_background

IN_SCOPE = frozenset({"calendar", "email", "lists", "social", "takeaway"})
NEVER_IN_CORPUS = frozenset({"transport"})
# intents of those scenarios a shop should answer or may be asked (greetings, currencies, shares, places): not
# another topic, so neither in the corpus nor in this test
NOT_ANOTHER_TOPIC = frozenset(
    {"general_greet", "qa_currency", "qa_stock", "recommendation_locations"}
)  # a fourth of bookings and tickets: kept out of the corpus, always unseen
# the corpus's twelve scenarios in three folds, each with questions and commands
FOLDS = (
    frozenset({"alarm", "iot", "qa", "news"}),
    frozenset({"audio", "music", "weather", "cooking"}),
    frozenset({"datetime", "general", "play", "recommendation"}),
)
THRESHOLD = 0.4  # the default nlu_threshold (bots/flow/schema.py)


def _decide(model: IntentModel, text: str, language: str, cut: float) -> str | None:
    scored = model.probabilities(text, language)
    if scored is None:
        return None
    classes, probabilities = scored
    probabilities, other_topic = in_scope(classes, probabilities, model.temperature, cut)
    best = int(probabilities.argmax())
    if other_topic or classes[best] == OUT_OF_SCOPE or probabilities[best] < THRESHOLD:
        return None
    return classes[best]


def _unseen(row: dict[str, str], held_out: frozenset[str]) -> bool:
    """A test utterance of a held-out scenario that a shop should not answer."""
    return row["scenario"] in NEVER_IN_CORPUS or (
        row["scenario"] in held_out and row["intent"] not in NOT_ANOTHER_TOPIC
    )


def _measure(
    parts: dict[str, list[dict[str, str]]],
    language: str,
    tests: list[dict[str, str]],
    held_out: frozenset[str] | None,
    encoder: str | None,
) -> tuple[float, list[bool]]:
    """In-scope accuracy and, per unseen utterance, whether it reached the fallback (``held_out`` None: no
    background class at all)."""
    train = [r for r in parts["train"] if r["scenario"] in IN_SCOPE]
    texts, labels, languages = [r["utt"] for r in train], [r["intent"] for r in train], [language] * len(train)
    if held_out is not None:
        texts, labels, languages = with_background(texts, labels, languages, leave_out=held_out)
    model = IntentModel(texts, labels, languages, encoder=encoder)
    cut = calibrated_cut(model, texts, labels, languages, THRESHOLD)
    inside = [r for r in tests if r["scenario"] in IN_SCOPE]
    outside = [r for r in tests if _unseen(r, held_out or frozenset().union(*FOLDS))]
    accuracy = sum(_decide(model, r["utt"], language, cut) == r["intent"] for r in inside) / len(inside)
    return accuracy, [_decide(model, r["utt"], language, cut) is None for r in outside]


def measure_locale(locale: str, split: str, limit: int, encoder: str | None) -> tuple[float, float, float, float]:
    """(in-scope accuracy, unseen -> fallback) without the background class, then with it (over the folds)."""
    language = locale.split("-")[0]
    parts = rows(locale)
    tests = parts[split][: limit or None]
    plain_accuracy, plain_fallbacks = _measure(parts, language, tests, None, encoder)
    accuracies, fallbacks = [], []
    for fold in FOLDS:
        accuracy, reached = _measure(parts, language, tests, fold, encoder)
        accuracies.append(accuracy)
        fallbacks += reached
    return (
        plain_accuracy,
        sum(plain_fallbacks) / len(plain_fallbacks),
        statistics.mean(accuracies),
        sum(fallbacks) / len(fallbacks),
    )


def report(locales: list[str], split: str, limit: int, encoder: str | None = None) -> None:
    """``encoder``: a sentence encoder's vectors beside the n-grams (nlu_models.encoder), as bench/nlu_massive.py."""
    print(
        f"\nout-of-scope: intents of {', '.join(sorted(IN_SCOPE))}; unseen domains in folds "
        f"{' | '.join(', '.join(sorted(fold)) for fold in FOLDS)}, and {', '.join(NEVER_IN_CORPUS)}; "
        f"threshold {THRESHOLD}; {f'encoder {encoder}' if encoder else 'n-grams only'}"
    )
    print(f"{'locale':<7} {'in-scope acc.':>14} {'with bg':>8} {'unseen -> fallback':>19} {'with bg':>8}")
    figures = []
    for locale in locales:
        plain_accuracy, plain_fallback, accuracy, fallback = measure_locale(locale, split, limit, encoder)
        figures.append((plain_accuracy, plain_fallback, accuracy, fallback))
        print(
            f"{locale:<7} {plain_accuracy:>14.1%} {accuracy:>8.1%} {plain_fallback:>19.1%} {fallback:>8.1%}",
            flush=True,
        )
    average = [statistics.mean(f[i] for f in figures) for i in range(4)]
    print(f"{'average':<7} {average[0]:>14.1%} {average[2]:>8.1%} {average[1]:>19.1%} {average[3]:>8.1%}")
    print(f"lowest locale, unseen -> fallback with the background class: {min(f[3] for f in figures):.1%}")
