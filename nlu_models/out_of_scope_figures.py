"""How well the NLU tells another topic from the bot's own: what ``nlu-test`` reports beside accuracy.

Accuracy alone hides the trade: a model that sends everything doubtful to the
fallback catches every off-topic message and annoys every customer. So the
share of in-scope messages that reach the fallback is reported with the
out-of-scope recall and precision, whenever the test data has messages
labelled ``out_of_scope``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bots.types import OUT_OF_SCOPE

FALLBACK = "nlu_fallback"  # what a message no intent claims is predicted as (Rasa's name)


@dataclass(frozen=True)
class OutOfScopeFigures:
    n: int  # messages labelled out_of_scope in the test data
    recall: float | None  # of those, the share that reached the fallback (None: there were none)
    precision: float | None  # of the messages that reached the fallback, the share labelled out_of_scope
    in_scope_fallback_rate: float | None  # of the other messages, the share that reached the fallback

    def as_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "recall": self.recall,
            "precision": self.precision,
            "in_scope_fallback_rate": self.in_scope_fallback_rate,
        }


def is_fallback(predicted: str) -> bool:
    return predicted in (FALLBACK, OUT_OF_SCOPE)


def out_of_scope_figures(expected: list[str], predicted: list[str]) -> OutOfScopeFigures:
    pairs = list(zip(expected, predicted, strict=True))
    outside = [is_fallback(p) for e, p in pairs if e == OUT_OF_SCOPE]
    inside = [is_fallback(p) for e, p in pairs if e != OUT_OF_SCOPE]
    fallbacks = sum(outside) + sum(inside)
    return OutOfScopeFigures(
        len(outside),
        round(sum(outside) / len(outside), 4) if outside else None,
        round(sum(outside) / fallbacks, 4) if outside and fallbacks else None,
        round(sum(inside) / len(inside), 4) if inside else None,
    )


def as_reported(expected: list[str], predicted: list[str]) -> list[str]:
    """An out_of_scope message that reached the fallback was understood: count it right, not as nlu_fallback."""
    return [
        OUT_OF_SCOPE if e == OUT_OF_SCOPE and is_fallback(p) else p for e, p in zip(expected, predicted, strict=True)
    ]
