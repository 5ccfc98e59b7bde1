"""How good the NLU is: accuracy and macro-F1 overall, per language and per intent, and what it confuses.

Test data is the bot's own YAML (``language:`` + ``nlu:``), or JSON Lines of
``{"text", "intent", "lang"?}``. Without test data, the bot's examples are
evaluated by stratified cross-validation, so a number is honest even before
anyone collected real messages.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

from bots.config import SUPPORTED_LANGUAGES
from bots.errors import UserError
from bots.located_yaml import DuplicateKeys, LocatedDict, Mark, YamlError, load_text, mark_of
from bots.types import short_locale
from nlu_models.base import LanguageHints
from nlu_models.out_of_scope_figures import OutOfScopeFigures, as_reported, out_of_scope_figures


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    language: str | None = None


@dataclass
class Report:
    accuracy: float
    macro_f1: float
    n: int
    language_id_accuracy: float | None
    per_language: dict[str, dict[str, float]]
    per_intent: dict[str, dict[str, float]]
    confusions: list[dict[str, Any]]  # the most frequent (expected, predicted) pairs
    errors: list[dict[str, Any]] = field(repr=False, default_factory=list)
    labels: list[str] = field(repr=False, default_factory=list)
    matrix: list[list[int]] = field(repr=False, default_factory=list)
    calibration: Calibration | None = None
    out_of_scope: OutOfScopeFigures | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "n": self.n,
            "language_id_accuracy": self.language_id_accuracy,
            "per_language": self.per_language,
            "per_intent": self.per_intent,
            "confusions": self.confusions,
            "calibration": self.calibration.as_json() if self.calibration is not None else None,
            "out_of_scope": self.out_of_scope.as_json() if self.out_of_scope is not None else None,
        }


@dataclass(frozen=True)
class Prediction:
    """What one message was understood as: the best intent and its confidence, before the threshold."""

    top: str | None  # None: no intent scored at all (no known character)
    confidence: float
    language: str
    intent: str  # after the threshold: the top intent, or nlu_fallback


@dataclass(frozen=True)
class Calibration:
    """Whether a confidence of x means right x of the time, which is what ``nlu_threshold`` relies on.

    ``ece`` is the expected calibration error: the gap between confidence and
    accuracy, averaged over ten equal-width confidence bins weighted by how
    many messages fall in each. ``above_threshold`` tells a bot author what a
    threshold costs: how many messages go to the fallback and how often the
    rest are right.
    """

    ece: float
    bins: list[dict[str, float]]
    threshold: float
    fallback_rate: float
    accuracy_above_threshold: float | None

    def as_json(self) -> dict[str, Any]:
        return {
            "ece": self.ece,
            "bins": self.bins,
            "threshold": self.threshold,
            "fallback_rate": self.fallback_rate,
            "accuracy_above_threshold": self.accuracy_above_threshold,
        }


def calibration(confidences: list[float], correct: list[bool], threshold: float, bins: int = 10) -> Calibration:
    table: list[dict[str, float]] = []
    gap = 0.0
    for number in range(bins):
        low, high = number / bins, (number + 1) / bins
        inside = [i for i, c in enumerate(confidences) if low <= c < high or (number == bins - 1 and c == 1.0)]
        if not inside:
            continue
        confidence = sum(confidences[i] for i in inside) / len(inside)
        accuracy = sum(correct[i] for i in inside) / len(inside)
        gap += len(inside) * abs(confidence - accuracy)
        table.append(
            {
                "from": low,
                "to": high,
                "n": len(inside),
                "confidence": round(confidence, 4),
                "accuracy": round(accuracy, 4),
            }
        )
    kept = [i for i, c in enumerate(confidences) if c >= threshold]
    return Calibration(
        round(gap / max(1, len(confidences)), 4),
        table,
        threshold,
        round(1 - len(kept) / max(1, len(confidences)), 4),
        round(sum(correct[i] for i in kept) / len(kept), 4) if kept else None,
    )


def read_examples(path: Path) -> list[Example]:
    """JSON Lines ``{"text", "intent", "lang"?}``, or a YAML file in the bot's nlu format.

    Every problem is a :class:`UserError` naming the file and, where there is one, the line: these files are
    written by hand or exported from other tools, in other encodings, with locales for languages.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from None
    mark = 3 if data.startswith(b"\xef\xbb\xbf") else 0  # a byte-order mark, as some editors write, is no text
    try:
        raw = data[mark:].decode("utf-8")
    except UnicodeDecodeError as exc:
        where = mark + exc.start
        line_number = data[:where].count(b"\n") + 1
        raise UserError(f"{path}:{line_number}: not UTF-8 text (byte {where}); save the file as UTF-8") from None
    examples: list[Example] = []
    if path.suffix in (".jsonl", ".json", ".ndjson"):
        for number, line in enumerate(raw.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except ValueError as exc:
                raise UserError(f"{path}:{number}: not JSON: {exc}") from None
            if (
                not isinstance(item, dict)
                or not isinstance(item.get("text"), str)
                or not isinstance(item.get("intent"), str)
                or not item["intent"].strip()
            ):
                raise UserError(f'{path}:{number}: each line needs "text" and "intent" strings')
            lang = item.get("lang", item.get("language"))
            if lang is not None and not isinstance(lang, str):
                raise UserError(f'{path}:{number}: "lang" must be a language code such as "en" or "pt-BR"')
            examples.append(Example(item["text"], item["intent"], _language(lang, path, number)))
        return examples
    try:
        data = load_text(raw, str(path))  # the bot's own YAML reader: positions, duplicate keys, clear errors
    except YamlError as exc:
        raise UserError(str(exc)) from None
    except DuplicateKeys as exc:
        raise UserError(str(exc.errors[0])) from None
    nlu = data.get("nlu") if isinstance(data, dict) else None
    if not isinstance(nlu, LocatedDict):  # what the YAML reader gives for a mapping
        raise UserError(f"{path}: expected `language:` and `nlu:` (intent: [examples]), or a .jsonl file")
    stated = data.get("language")  # `language: ~` or nothing: the bot's default, as "lang": null in JSON Lines
    language = _language(None if stated is None else str(stated), path, mark_of(data, "language", Mark("", 1, 1)).line)
    for intent, texts in nlu.items():
        if texts is None:
            continue  # `greet:` with no examples yet
        if not isinstance(texts, list):
            raise UserError(
                f"{path}:{mark_of(nlu, intent, nlu.mark).line}: the examples of intent {str(intent)!r} "
                "must be a list of texts"
            )
        for number, text in enumerate(texts):
            if not isinstance(text, str):  # as the bot's own files: `yes` would be read as true, 42 as a number
                raise UserError(
                    f"{path}:{mark_of(texts, number, nlu.mark).line}: the examples of intent "
                    f"{str(intent)!r} must be a list of texts (quote yes, no and numbers)"
                )
        examples += [Example(text, str(intent), language) for text in texts if text.strip()]
    return examples


def _language(code: str | None, path: Path, line: int) -> str | None:
    """``pt-BR``, ``EN`` -> ``pt``, ``en``; a language Threadline does not speak is an error, not a crash later."""
    if code is None:
        return None
    language = short_locale(code)
    if language not in SUPPORTED_LANGUAGES:
        raise UserError(f"{path}:{line}: language {code!r} is not one of {', '.join(SUPPORTED_LANGUAGES)}")
    return language


def bot_examples(examples: dict[str, dict[str, tuple[str, ...]]]) -> list[Example]:
    return [
        Example(text, intent, language)
        for language, per_intent in examples.items()
        for intent, texts in per_intent.items()
        for text in texts
    ]


def as_training(examples: Iterable[Example], default_language: str) -> dict[str, dict[str, tuple[str, ...]]]:
    grouped: dict[str, dict[str, list[str]]] = {}
    for example in examples:
        grouped.setdefault(example.language or default_language, {}).setdefault(example.intent, []).append(example.text)
    return {language: {intent: tuple(texts) for intent, texts in per.items()} for language, per in grouped.items()}


Parse = Callable[[str, LanguageHints], Any]  # an interpreter's parse_sync


def predict(parse: Parse, text: str, hints: LanguageHints) -> Prediction:
    result = parse(text, hints)
    top = result.ranking[0] if result.ranking else None
    return Prediction(
        top.name if top is not None else None,
        top.confidence if top is not None else 0.0,
        result.language or "",
        result.intent or "nlu_fallback",
    )


def report_predictions(examples: list[Example], predictions: list[Prediction], threshold: float) -> Report:
    """The report, with the calibration of the top intent's confidence (right or wrong before the threshold)."""
    expected, predicted = [e.intent for e in examples], [p.intent for p in predictions]
    result = report(examples, as_reported(expected, predicted), [p.language for p in predictions])
    result.out_of_scope = out_of_scope_figures(expected, predicted)
    result.calibration = calibration(
        [p.confidence for p in predictions],
        [p.top == e.intent for p, e in zip(predictions, examples, strict=True)],
        threshold,
    )
    return result


def report(examples: list[Example], predicted: list[str], languages: list[str]) -> Report:
    expected = [e.intent for e in examples]
    correct = [e == p for e, p in zip(expected, predicted, strict=True)]
    labels = sorted(set(expected))
    per_language: dict[str, dict[str, float]] = {}
    for language in sorted({e.language for e in examples if e.language}):
        index = [i for i, e in enumerate(examples) if e.language == language]
        per_language[language] = {
            "accuracy": round(sum(correct[i] for i in index) / len(index), 4),
            "macro_f1": round(
                float(
                    f1_score(
                        [expected[i] for i in index],
                        [predicted[i] for i in index],
                        labels=sorted({expected[i] for i in index}),
                        average="macro",
                        zero_division=0,
                    )
                ),
                4,
            ),
            "n": len(index),
            "language_id_accuracy": round(sum(languages[i] == language for i in index) / len(index), 4),
        }
    per_intent: dict[str, dict[str, float]] = {}
    f1s = f1_score(expected, predicted, labels=labels, average=None, zero_division=0)
    for label, f1 in zip(labels, f1s, strict=True):
        index = [i for i, e in enumerate(expected) if e == label]
        per_intent[label] = {
            "accuracy": round(sum(correct[i] for i in index) / len(index), 4),
            "f1": round(float(f1), 4),
            "n": len(index),
        }
    pairs = Counter((e, p) for e, p in zip(expected, predicted, strict=True) if e != p)
    confusions = [{"expected": e, "predicted": p, "count": n} for (e, p), n in pairs.most_common(10)]
    with_language = [i for i, e in enumerate(examples) if e.language]
    language_id = (
        round(sum(languages[i] == examples[i].language for i in with_language) / len(with_language), 4)
        if with_language
        else None
    )
    errors = [
        {
            "text": examples[i].text,
            "expected": expected[i],
            "predicted": predicted[i],
            "language": examples[i].language,
            "detected_language": languages[i],
        }
        for i in range(len(examples))
        if not correct[i]
    ]
    columns = labels + sorted(set(predicted) - set(labels))
    position = {label: n for n, label in enumerate(columns)}
    matrix = [[0] * len(columns) for _ in labels]
    for e, p in zip(expected, predicted, strict=True):
        matrix[position[e]][position[p]] += 1
    return Report(
        round(sum(correct) / max(1, len(correct)), 4),
        round(float(f1_score(expected, predicted, labels=labels, average="macro", zero_division=0)), 4),
        len(examples),
        language_id,
        per_language,
        per_intent,
        confusions,
        errors,
        columns,
        matrix,
    )


def cross_validate(
    train: Callable[[list[Example]], Parse],
    examples: list[Example],
    *,
    folds: int = 5,
    threshold: float = 0.0,
    progress: Callable[[int], object] | None = None,
) -> Report:
    """Each example predicted by a model that never saw it (stratified by intent and language)."""
    if folds < 2:
        raise UserError(f"cross-validation needs at least 2 folds (--folds {folds})")
    if len(examples) < folds:
        raise UserError(
            f"{folds}-fold cross-validation needs at least {folds} examples; there are {len(examples)}"
            " (use --folds, or give test data with --data)"
        )
    strata = [f"{e.intent}|{e.language}" for e in examples]
    counts = Counter(strata)
    strata = [s if counts[s] >= folds else e.intent for s, e in zip(strata, examples, strict=True)]
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    predictions: list[Prediction | None] = [None] * len(examples)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # an intent with fewer examples than folds
        splits = list(splitter.split(examples, strata))
    for number, (train_index, test_index) in enumerate(splits, start=1):
        parse = train([examples[i] for i in train_index])
        for i in test_index:
            predictions[i] = predict(parse, examples[i].text, LanguageHints())
        if progress is not None:
            progress(number)
    return report_predictions(examples, [p for p in predictions if p is not None], threshold)


def write_outputs(result: Report, folder: Path) -> tuple[Path, Path]:
    """The confusion matrix as a PNG and the misclassified examples as JSON Lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    size = max(6.0, 0.28 * len(result.labels) + 2)
    figure, axes = plt.subplots(figsize=(size, size * 0.9))
    rows = result.matrix
    normalised = [[v / max(1, sum(row)) for v in row] for row in rows]
    image = axes.imshow(normalised, cmap="Blues", vmin=0, vmax=1)
    axes.set_xticks(range(len(result.labels)), result.labels, rotation=90, fontsize=7)
    axes.set_yticks(range(len(rows)), result.labels[: len(rows)], fontsize=7)
    axes.set_xlabel("predicted")
    axes.set_ylabel("expected")
    axes.set_title(f"accuracy {result.accuracy:.1%}, macro-F1 {result.macro_f1:.3f} (n={result.n})")
    figure.colorbar(image, ax=axes, fraction=0.03)
    figure.tight_layout()
    png = folder / "confusion_matrix.png"
    figure.savefig(png, dpi=110)
    plt.close(figure)
    errors = folder / "errors.jsonl"
    errors.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in result.errors), encoding="utf-8")
    return png, errors
