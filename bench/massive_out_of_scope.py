"""Out-of-scope detection on MASSIVE: domains the model never trained on, in each of the 11 locales.

MASSIVE's 18 scenarios are split three ways. The model's intents are those of
IN_SCOPE (trained on their ``train`` rows). The background corpus the product
ships (nlu_models/data/, other scenarios again) is added or not. HELD_OUT
scenarios are in neither: their test utterances stand for what customers ask
that nobody foresaw. A message reaches the fallback when the background class
wins (nlu_models.out_of_scope) or the best intent's confidence is under the
default ``nlu_threshold``. Reported per locale: in-scope accuracy (a fallback
counts as wrong) and the share of held-out utterances that reach the
fallback, without and with the background class.
"""

from __future__ import annotations

import statistics

from bench.massive_data import rows
from nlu_models.intent import IntentModel
from nlu_models.out_of_scope import OUT_OF_SCOPE, in_scope, with_background

IN_SCOPE = frozenset({"calendar", "email", "lists", "social", "takeaway"})
HELD_OUT = frozenset({"alarm", "audio", "datetime", "iot", "music", "transport"})
THRESHOLD = 0.4  # the default nlu_threshold (bots/flow/schema.py)


def _decide(model: IntentModel, text: str, language: str) -> str | None:
    scored = model.probabilities(text, language)
    if scored is None:
        return None
    classes, probabilities = scored
    probabilities = in_scope(classes, probabilities, model.temperature)
    best = int(probabilities.argmax())
    return classes[best] if classes[best] != OUT_OF_SCOPE and probabilities[best] >= THRESHOLD else None


def _measure(locale: str, split: str, limit: int, background: bool) -> tuple[float, float]:
    language = locale.split("-")[0]
    parts = rows(locale)
    train = [r for r in parts["train"] if r["scenario"] in IN_SCOPE]
    texts, labels, languages = [r["utt"] for r in train], [r["intent"] for r in train], [language] * len(train)
    if background:
        texts, labels, languages = with_background(texts, labels, languages)
    model = IntentModel(texts, labels, languages)
    tests = parts[split][: limit or None]
    inside = [r for r in tests if r["scenario"] in IN_SCOPE]
    outside = [r for r in tests if r["scenario"] in HELD_OUT]
    accuracy = sum(_decide(model, r["utt"], language) == r["intent"] for r in inside) / len(inside)
    fallback = sum(_decide(model, r["utt"], language) is None for r in outside) / len(outside)
    return accuracy, fallback


def report(locales: list[str], split: str, limit: int) -> None:
    print(
        f"\nout-of-scope: intents of {', '.join(sorted(IN_SCOPE))}; unseen domains {', '.join(sorted(HELD_OUT))}; "
        f"threshold {THRESHOLD}"
    )
    print(f"{'locale':<7} {'in-scope acc.':>14} {'with bg':>8} {'unseen -> fallback':>19} {'with bg':>8}")
    figures = []
    for locale in locales:
        plain = _measure(locale, split, limit, background=False)
        with_bg = _measure(locale, split, limit, background=True)
        figures.append((*plain, *with_bg))
        print(
            f"{locale:<7} {plain[0]:>14.1%} {with_bg[0]:>8.1%} {plain[1]:>19.1%} {with_bg[1]:>8.1%}",
            flush=True,
        )
    average = [statistics.mean(f[i] for f in figures) for i in range(4)]
    print(f"{'average':<7} {average[0]:>14.1%} {average[2]:>8.1%} {average[1]:>19.1%} {average[3]:>8.1%}")
    print(f"lowest locale, unseen -> fallback with the background class: {min(f[3] for f in figures):.1%}")
