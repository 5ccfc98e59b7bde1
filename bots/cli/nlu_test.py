"""``threadline nlu-test``: how well the NLU understands, overall, per language and per intent.

With ``--data FILE`` the model (trained on the bot's examples, or on
``--train FILE``) is tested on that file; without it, the training examples
are cross-validated. The confusion matrix (PNG) and the misclassified
examples (JSON Lines) go to ``--out``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tqdm import tqdm

from bots.config import load_config
from bots.errors import ProblemsError, UserError
from bots.flow.loader import load_bot
from nlu_models.base import LanguageHints
from nlu_models.char_ngrams import CharNgramInterpreter
from nlu_models.encoder.registry import chosen
from nlu_models.encoder.reliance import reliance
from nlu_models.entities import EntityExtractor
from nlu_models.evaluate import (
    Example,
    Report,
    as_training,
    bot_examples,
    cross_validate,
    predict,
    read_examples,
    report_predictions,
    write_outputs,
)


def _text_report(result: Report, how: str, png: Path, errors: Path) -> str:
    lines = [
        f"{how}: {result.n} examples",
        f"accuracy {result.accuracy:.1%}   macro-F1 {result.macro_f1:.3f}"
        + (f"   language id {result.language_id_accuracy:.1%}" if result.language_id_accuracy is not None else ""),
        "",
        "language  accuracy  macro-F1  language-id      n",
    ]
    for language, figures in result.per_language.items():
        lines.append(
            f"{language:<8}  {figures['accuracy']:>8.1%}  {figures['macro_f1']:>8.3f}  "
            f"{figures['language_id_accuracy']:>11.1%}  {int(figures['n']):>5}"
        )
    worst = sorted(result.per_intent.items(), key=lambda item: (item[1]["f1"], item[0]))[:8]
    lines += ["", "weakest intents (F1):"] + [f"  {name:<24} {f['f1']:.3f}  (n={int(f['n'])})" for name, f in worst]
    if result.confusions:
        lines += ["", "most confused (expected -> predicted):"]
        lines += [f"  {c['expected']} -> {c['predicted']}: {c['count']}" for c in result.confusions]
    if result.calibration is not None:
        calibration = result.calibration
        lines += [
            "",
            f"confidence: expected calibration error {calibration.ece:.3f}; at the bot's threshold "
            f"{calibration.threshold:g}, {calibration.fallback_rate:.1%} go to the fallback"
            + (
                f" and the rest are {calibration.accuracy_above_threshold:.1%} right"
                if calibration.accuracy_above_threshold is not None
                else ""
            ),
            "  confidence      n  mean conf.  accuracy",
        ]
        lines += [
            f"  {b['from']:.1f}-{b['to']:.1f}  {int(b['n']):>7}  {b['confidence']:>10.3f}  {b['accuracy']:>8.1%}"
            for b in calibration.bins
        ]
    lines += _out_of_scope_lines(result)
    lines += ["", f"confusion matrix: {png}", f"errors: {errors}"]
    return "\n".join(lines)


def _out_of_scope_lines(result: Report) -> list[str]:
    figures = result.out_of_scope
    if figures is None or figures.in_scope_fallback_rate is None:
        return []
    lines = [""]
    if figures.recall is not None:
        precision = f"{figures.precision:.1%}" if figures.precision is not None else "-"
        lines.append(
            f"out of scope: {figures.recall:.1%} of {figures.n} out_of_scope messages reach the fallback "
            f"(recall); {precision} of the messages that reach it are out of scope (precision)"
        )
    lines.append(f"in-scope messages that reach the fallback: {figures.in_scope_fallback_rate:.1%}")
    return lines


def _check_writable(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise UserError(f"--out {folder}: a file is in the way; give a folder") from None
    except OSError as exc:
        raise UserError(f"--out {folder}: cannot create the folder: {exc.strerror or exc}") from None
    probe = folder / ".threadline-write-check"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UserError(f"--out {folder}: cannot write there: {exc.strerror or exc}") from None


def nlu_test(config_path: Path, *, data: Path | None, train: Path | None, out: Path, as_json: bool, folds: int) -> int:
    config = load_config(config_path)
    _check_writable(out)  # before the evaluation, not after it has run for minutes
    loaded = load_bot(config.bot, languages=config.languages, default_language=config.default_language)
    if loaded.bot is None:
        raise ProblemsError(loaded.errors)
    bot = loaded.bot
    training = read_examples(train) if train is not None else bot_examples(bot.examples)
    if not training:
        raise UserError("no training examples")
    entities = EntityExtractor(bot.entities)
    encoder = chosen(bot.nlu_encoder)

    def fit(examples: list[Example]):  # type: ignore[no-untyped-def]
        return CharNgramInterpreter(
            as_training(examples, bot.default_language),
            bot.languages,
            bot.default_language,
            bot.nlu_threshold,
            entities,
            encoder=encoder,
            phrases=bot.trigger_phrases,
        ).parse_sync

    quiet = as_json or not sys.stderr.isatty()
    if data is None:
        bar = tqdm(total=folds, desc="cross-validating", unit="fold", disable=quiet, file=sys.stderr)
        result = cross_validate(
            fit, training, folds=folds, threshold=bot.nlu_threshold, progress=lambda n: bar.update(1)
        )
        bar.close()
        how = f"{folds}-fold cross-validation of {'the bot' if train is None else train}"
    else:
        tests = read_examples(data)
        if not tests:
            raise UserError(f"{data}: no examples")
        parse = fit(training)
        predictions = [
            predict(parse, example.text, LanguageHints())
            for example in tqdm(tests, desc="testing", unit="msg", disable=quiet, file=sys.stderr)
        ]
        result = report_predictions(tests, predictions, bot.nlu_threshold)
        how = f"{data}, model trained on {'the bot' if train is None else train}"
    png, errors = write_outputs(result, out)
    _, thin = reliance(as_training(training, bot.default_language), bot.languages, bot.nlu_encoder)
    relying = {t.language: {"intents": list(t.thin), "served_by_encoder": t.served} for t in thin}
    if as_json:
        print(
            json.dumps(
                {
                    **result.as_json(),
                    "encoder": encoder,
                    "thin_languages": relying,
                    "confusion_matrix": str(png),
                    "errors_file": str(errors),
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        print(_text_report(result, how, png, errors))
        print(f"\nsentence encoder: {encoder or 'none'}")
        for language in thin:
            print(f"  {language.describe(encoder)}")
    return 0
