"""``threadline nlu-test``: cross-validation, test files in both formats, --train, JSON and the written files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BASE_FILES, REPO, write_bot


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    bot = write_bot(tmp_path / "bot", BASE_FILES)
    config = tmp_path / "config.yaml"
    config.write_text(f"bot: {bot}\nlanguages: [en, de]\n", encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "bots.cli", "nlu-test", "--config", str(config), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cross_validation_report_as_json_with_files(tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = run(tmp_path, "--json", "--out", str(out), "--folds", "3")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {"accuracy", "macro_f1", "language_id_accuracy", "per_language", "per_intent", "confusions"} <= set(report)
    assert set(report["per_language"]) == {"en", "de"}
    assert report["per_language"]["en"]["n"] == 20 and report["n"] == 25
    assert 0 <= report["accuracy"] <= 1 and (out / "confusion_matrix.png").read_bytes()[:4] == b"\x89PNG"
    errors = [json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()]
    assert len(errors) == round((1 - report["accuracy"]) * report["n"])
    calibration = report["calibration"]
    assert sum(b["n"] for b in calibration["bins"]) == 25 and 0 <= calibration["ece"] <= 1
    assert calibration["threshold"] == 0.3  # the bot's nlu_threshold


def test_a_jsonl_test_file_and_a_training_file(tmp_path: Path) -> None:
    data = tmp_path / "test.jsonl"
    data.write_text(
        "\n".join(
            json.dumps(row)
            for row in [
                {"text": "hello there", "intent": "greet", "lang": "en"},
                {"text": "good bye", "intent": "goodbye", "lang": "en"},
                {"text": "what size do i need", "intent": "size_help", "lang": "en"},
                {"text": "moin moin", "intent": "greet", "lang": "de"},
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    result = run(tmp_path, "--data", str(data), "--json", "--out", str(tmp_path / "r"))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["n"] == 4 and report["per_language"]["de"]["n"] == 1
    assert report["accuracy"] >= 0.75
    # trained on a file that knows nothing but greetings: everything is a greeting
    train = tmp_path / "train.jsonl"
    train.write_text(
        "\n".join(json.dumps({"text": t, "intent": "greet", "lang": "en"}) for t in ("hi", "hello", "hey")) + "\n",
        encoding="utf-8",
    )
    result = run(tmp_path, "--data", str(data), "--train", str(train), "--json", "--out", str(tmp_path / "r2"))
    report = json.loads(result.stdout)
    assert report["per_intent"]["greet"]["accuracy"] == 1.0 and report["per_intent"]["goodbye"]["accuracy"] == 0.0


def test_text_report_and_bad_files(tmp_path: Path) -> None:
    result = run(tmp_path, "--out", str(tmp_path / "r"), "--folds", "3")
    assert result.returncode == 0 and "3-fold cross-validation of the bot: 25 examples" in result.stdout
    assert "language  accuracy  macro-F1" in result.stdout
    assert "expected calibration error" in result.stdout and "go to the fallback" in result.stdout
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "hi"}\n', encoding="utf-8")
    result = run(tmp_path, "--data", str(bad))
    assert result.returncode == 2 and "bad.jsonl:1: each line needs" in result.stderr


def test_train_writes_the_model_run_loads_and_changed_examples_retrain(tmp_path: Path) -> None:
    from bots.flow.loader import load_bot
    from nlu_models import artifact
    from nlu_models.base import LanguageHints

    bot_dir = write_bot(tmp_path / "bot", BASE_FILES)
    (bot_dir / "klingon.yml").write_text("language: tlh\nnlu:\n  greet: [nuqneH]\n", encoding="utf-8")
    config = tmp_path / "config.yaml"
    config.write_text(f"bot: {bot_dir}\nlanguages: [en, de]\n", encoding="utf-8")
    data = tmp_path / "data"
    env = {**__import__("os").environ, "THREADLINE_DATA_DIR": str(data)}
    result = subprocess.run(
        [sys.executable, "-m", "bots.cli", "train", "--config", str(config)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "trained on 25 examples in 2 languages (4 intents)" in result.stdout
    assert "klingon.yml:1:11: warning BOT-W001: language 'tlh'" in result.stderr  # left out, and said so
    bot = load_bot(bot_dir, languages=("en", "de"), default_language="en").bot
    assert bot is not None
    path = artifact.artifact_path(bot, data)
    assert path.is_file() and str(path) in result.stdout
    loaded = artifact.load(bot, path)
    assert loaded is not None and loaded.parse_sync("hello there", LanguageHints()).intent == "greet"
    messages: list[str] = []
    assert artifact._load_or_train(bot, data, messages.append) is not None and "loaded" in messages[0]

    # new examples: the saved model does not match, so the server trains at start and saves the new one
    (bot_dir / "nlu.yml").write_text((bot_dir / "nlu.yml").read_text() + "  thanks: [thanks, thank you, cheers]\n")
    changed = load_bot(bot_dir, languages=("en", "de"), default_language="en").bot
    assert changed is not None and artifact.load(changed, path) is None
    interpreter = artifact._load_or_train(changed, data, messages.append)
    assert "trained" in messages[-1] and artifact.artifact_path(changed, data).is_file()
    assert interpreter.parse_sync("thank you so much", LanguageHints()).intent == "thanks"
    # a damaged file is not trusted: trained again
    artifact.artifact_path(changed, data).write_bytes(b"not a model")
    assert artifact._load_or_train(changed, data, messages.append) is not None and "trained" in messages[-1]


def test_train_shows_its_progress_on_a_terminal(tmp_path: Path) -> None:
    """On a terminal, the bar moves once per language (tokenizer and lemma table: most of the time) and ends
    full; piped, as above, nothing but the summary is printed."""
    import fcntl
    import os
    import pty
    import struct
    import termios

    bot_dir = write_bot(tmp_path / "bot", BASE_FILES)
    config = tmp_path / "config.yaml"
    config.write_text(f"bot: {bot_dir}\nlanguages: [en, de]\n", encoding="utf-8")
    env = {**os.environ, "THREADLINE_DATA_DIR": str(tmp_path / "data")}
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 200, 0, 0))  # a new pty is 0 columns wide
    process = subprocess.Popen(
        [sys.executable, "-m", "bots.cli", "train", "--config", str(config)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=follower,
        env=env,
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    assert process.wait(timeout=300) == 0
    os.close(leader)
    text = shown.decode("utf-8", "replace")
    assert "en: tokenizer and lemmas" in text and "de: tokenizer and lemmas" in text, text
    assert "5/5" in text, text  # reading, en, de, the models, saving
    assert process.stdout is not None and "trained on 25 examples" in process.stdout.read().decode()


def test_a_damaged_model_file_is_retrained_never_a_crash(tmp_path: Path) -> None:
    """A flipped byte anywhere (a disk error, a copy cut short) costs a retraining, not the server's start."""
    from bots.flow.loader import load_bot
    from nlu_models import artifact
    from nlu_models.base import LanguageHints

    bot = load_bot(write_bot(tmp_path / "bot", BASE_FILES), languages=("en", "de"), default_language="en").bot
    assert bot is not None
    path = tmp_path / "model.pkl"
    artifact.save(artifact.train(bot), bot, path)
    good = path.read_bytes()
    positions = list(range(0, 400)) + list(range(400, len(good), max(1, len(good) // 300)))
    damaged_and_refused = 0
    for position in positions:
        flipped = bytearray(good)
        flipped[position] ^= 0xFF
        path.write_bytes(bytes(flipped))
        loaded = artifact.load(bot, path)  # must not raise, whatever the byte was
        if loaded is None:
            damaged_and_refused += 1
        else:  # a byte of the header that changes nothing the load checks (the training time, say)
            assert loaded.parse_sync("hello there", LanguageHints()).intent == "greet", position
    assert damaged_and_refused >= len(positions) * 0.9
    saved = artifact.artifact_path(bot, tmp_path / "data")  # where `threadline run` looks
    saved.parent.mkdir(parents=True)
    saved.write_bytes(good[: len(good) // 2])  # a copy cut short
    messages: list[str] = []
    assert artifact._load_or_train(bot, tmp_path / "data", messages.append) is not None
    assert "trained" in messages[-1] and artifact.load(bot, saved) is not None  # and saved whole again


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("utf16.jsonl", '{"text": "hi", "intent": "greet"}\n'.encode("utf-16"), "utf16.jsonl:1: not UTF-8 text"),
        (
            "latin1.jsonl",
            b'{"text": "hi", "intent": "greet"}\n{"text": "caf\xe9", "intent": "greet"}\n',
            "latin1.jsonl:2: not UTF-8 text",
        ),
        (
            "five.yml",
            b"language: en\nnlu:\n  hi: [hello]\n  greet: 5\n",
            "five.yml:4: the examples of intent 'greet' must be a list of texts",
        ),
        ("string.yml", b"language: en\nnlu:\n  greet: hello\n", "string.yml:3: the examples of intent 'greet'"),
        (
            "bom_then_latin1.jsonl",
            b'\xef\xbb\xbf{"text": "hi", "intent": "greet"}\n{"text": "caf\xe9", "intent": "g"}\n',
            "bom_then_latin1.jsonl:2: not UTF-8 text (byte 50)",
        ),
        ("kl.jsonl", b'{"text": "hi", "intent": "greet", "lang": "kl"}\n', "kl.jsonl:1: language 'kl' is not one of"),
        ("bad_lang.yml", b"language: ja\nnlu:\n  greet: [hi]\n", "bad_lang.yml:1: language 'ja' is not one of"),
        ("number_lang.jsonl", b'{"text": "hi", "intent": "greet", "lang": 5}\n', 'number_lang.jsonl:1: "lang" must'),
    ],
)
def test_a_bad_examples_file_is_a_clear_error(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    from bots.errors import UserError
    from nlu_models.evaluate import read_examples

    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UserError) as error:
        read_examples(path)
    assert message in str(error.value)


def test_examples_files_as_other_tools_write_them(tmp_path: Path) -> None:
    from nlu_models.evaluate import Example, read_examples

    exported = tmp_path / "export.jsonl"  # a byte-order mark, locales for languages
    exported.write_bytes(
        b'\xef\xbb\xbf{"text": "hello", "intent": "greet", "lang": "en-US"}\n'
        b'{"text": "moin", "intent": "greet", "language": "DE"}\n'
    )
    assert read_examples(exported) == [Example("hello", "greet", "en"), Example("moin", "greet", "de")]
    sketch = tmp_path / "sketch.yml"  # an intent with no examples yet
    sketch.write_text("language: pt-BR\nnlu:\n  greet: [oi]\n  thanks:\n", encoding="utf-8")
    assert read_examples(sketch) == [Example("oi", "greet", "pt")]
    unstated = tmp_path / "unstated.yml"  # no language: the bot's default, as "lang": null in JSON Lines
    unstated.write_text("language: ~\nnlu:\n  greet: [hi]\n", encoding="utf-8")
    assert read_examples(unstated) == [Example("hi", "greet", None)]


def test_calibration_judges_the_top_intent_before_the_threshold() -> None:
    """A right answer below the threshold goes to the fallback (wrong for accuracy), but its confidence was
    honest: calibration judges the top intent, or a threshold would make any model look calibrated."""
    from nlu_models.evaluate import Example, Prediction, report_predictions

    examples = [Example("hi", "greet", "en"), Example("bye", "goodbye", "en")]
    predictions = [Prediction("greet", 0.25, "en", "nlu_fallback"), Prediction("goodbye", 0.95, "en", "goodbye")]
    result = report_predictions(examples, predictions, threshold=0.3)
    assert result.accuracy == 0.5
    assert result.calibration is not None
    assert [(b["from"], b["accuracy"]) for b in result.calibration.bins] == [(0.2, 1.0), (0.9, 1.0)]
    assert result.calibration.fallback_rate == 0.5 and result.calibration.accuracy_above_threshold == 1.0


def test_options_that_cannot_work_are_refused_before_any_work(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    result = run(tmp_path, "--out", str(blocker))
    assert result.returncode == 2 and "a file is in the way" in result.stderr
    assert run(tmp_path, "--folds", "1").stderr.strip().endswith("cross-validation needs at least 2 folds (--folds 1)")
    few = tmp_path / "few.jsonl"
    few.write_text(
        "".join(json.dumps({"text": t, "intent": i}) + "\n" for t, i in (("a b", "x"), ("c d", "y"))), encoding="utf-8"
    )
    result = run(tmp_path, "--train", str(few))
    assert result.returncode == 2 and "needs at least 5 examples; there are 2" in result.stderr
    # examples that share no character n-gram still train (the n-gram floor gives way)
    unlike = tmp_path / "unlike.jsonl"
    unlike.write_text(
        "".join(
            json.dumps({"text": t, "intent": i, "lang": "en"}) + "\n"
            for t, i in (("xq", "a"), ("zw", "b"), ("jk", "a"), ("vy", "b"))
        ),
        encoding="utf-8",
    )
    result = run(tmp_path, "--train", str(unlike), "--folds", "2", "--json", "--out", str(tmp_path / "r"))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["n"] == 4


def test_old_model_files_do_not_pile_up(tmp_path: Path) -> None:
    import os

    from bots.flow.loader import load_bot
    from nlu_models import artifact

    bot = load_bot(write_bot(tmp_path / "bot", BASE_FILES), languages=("en", "de"), default_language="en").bot
    assert bot is not None
    path = artifact.artifact_path(bot, tmp_path / "data")
    models = path.parent
    models.mkdir(parents=True)
    prefix = path.name.rsplit("-", 1)[0]
    for age in range(5):  # five earlier trainings of this bot, the oldest first, and one of another bot
        old = models / f"{prefix}-old{age}.pkl"
        old.write_bytes(b"an earlier model")
        os.utime(old, (1_000_000 + age, 1_000_000 + age))
    (models / "nlu-other-bot-0123456789abcdef0123.pkl").write_bytes(b"another bot's model")
    (models / "notes.txt").write_text("not a model", encoding="utf-8")
    artifact.save(artifact.train(bot), bot, path)
    assert sorted(f.name for f in models.iterdir()) == sorted(
        [path.name, f"{prefix}-old4.pkl", f"{prefix}-old3.pkl", "nlu-other-bot-0123456789abcdef0123.pkl", "notes.txt"]
    )


def test_trigger_phrases_are_trained_on_and_part_of_the_model_file_name(tmp_path: Path) -> None:
    """A flow's trigger phrases teach language ID the bot's words, so a new phrase makes another model."""
    from bots.flow.loader import load_bot
    from nlu_models import artifact
    from nlu_models.base import LanguageHints

    bot_dir = write_bot(tmp_path / "bot", BASE_FILES)
    before = load_bot(bot_dir, languages=("en", "de"), default_language="en").bot
    flows = (bot_dir / "flows.yml").read_text()
    phrased = "trigger: {intents: [greet], keywords: {de: [mail senden]}}"
    (bot_dir / "flows.yml").write_text(flows.replace("trigger: {intents: [greet]}", phrased))
    after = load_bot(bot_dir, languages=("en", "de"), default_language="en").bot
    assert before is not None and after is not None
    assert after.trigger_phrases == {"de": ("mail senden",)} and before.trigger_phrases == {}
    assert artifact.artifact_path(after, tmp_path) != artifact.artifact_path(before, tmp_path)
    hints = LanguageHints(channel_locale="en-US")  # a German customer on an English browser
    assert artifact.train(before, words=False).parse_sync("mail senden", hints).language == "en"
    assert artifact.train(after, words=False).parse_sync("mail senden", hints).language == "de"
