"""Starting `threadline run`: a first start trains in a child process and leaves the server no fatter than a
restart; a restart reuses the saved model instead of training again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from bots.flow.model import Bot
from nlu_models.tokenize import LEMMA_LANGUAGES, full_lemmas
from nlu_models.words import _features_of, _Helper, _lemmas_of
from tests.conftest import DEMO_BOT, REPO
from tests.readiness import CEILING_SECONDS, wait_healthy_async
from tests.servers import free_port

MiB = 1024 * 1024


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


async def serve_and_measure(config: Path, data: Path, log: Path, greetings: list[str]) -> int:
    """Start the demo server, greet it in each of its languages (so every tokenizer is built), and return its
    resident memory."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bots.cli", "run", "--config", str(config), "--port", str(port)],
            cwd=REPO,
            env={**os.environ, "THREADLINE_DATA_DIR": str(data), "PYTHONPATH": str(REPO)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        await wait_healthy_async(url, process, log=log)
        async with aiohttp.ClientSession() as session:
            for n, text in enumerate(greetings):
                body = {"sender": f"startup-{n}", "message": text}
                async with session.post(f"{url}/webhooks/rest/webhook", json=body) as response:
                    assert response.status == 200 and await response.json(), text
        return rss(process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


@pytest.mark.timeout(CEILING_SECONDS)
async def test_a_first_start_trains_apart_and_a_restart_loads_the_saved_model(tmp_path: Path, demo_bot: Bot) -> None:
    greetings = [per_intent["greet"][0] for per_intent in demo_bot.examples.values()]
    config = tmp_path / "config.yaml"
    config.write_text(f"bot: {DEMO_BOT}\nstore: sqlite:///t.db\nlog_level: info\n", encoding="utf-8")
    data = tmp_path / "data"
    first = await serve_and_measure(config, data, tmp_path / "first.log", greetings)
    first_log = (tmp_path / "first.log").read_text()
    assert "NLU examples changed or no model yet: trained in" in first_log, first_log
    (model,) = (data / "models").glob("nlu-stride-*.pkl")
    saved = model.stat().st_mtime_ns

    again = await serve_and_measure(config, data, tmp_path / "again.log", greetings)
    again_log = (tmp_path / "again.log").read_text()
    assert f"NLU model loaded from {model}" in again_log and "trained in" not in again_log, again_log
    assert [p.name for p in (data / "models").glob("*.pkl")] == [model.name]
    assert model.stat().st_mtime_ns == saved  # not written again
    # Training in the server's own process left it about 480 MiB fatter than a restart (scikit-learn, SciPy
    # and the lemma tables); trained apart, it holds what a restart holds
    assert first <= again + 100 * MiB, (first // MiB, again // MiB)


def test_the_training_helper_prepares_words_as_this_process_does() -> None:
    """The helper process gives the same features and lemma entries as preparing here: the model does not
    depend on which process prepared which language."""
    texts = ["en\tWhere is my order?", "en\tthe running shoes", "de\tWo ist meine Bestellung?", "de\tLaufschuhe"]
    known = {"be", "shoe", "run", "sein", "mein"}
    helper = _Helper()
    try:
        assert helper.ask("features", texts) == _features_of(texts)
        remote = helper.ask("lemmas", ["en", "de"], known)
    finally:
        helper.stop()
    assert remote == _lemmas_of(["en", "de"], known)
    assert remote["en"] and set(remote["en"].values()) <= known
    assert "en" in LEMMA_LANGUAGES and remote["en"] == {
        f: lemma for f, lemma in full_lemmas("en").items() if lemma in known
    }
    assert helper.process.returncode == 0  # it stops when its stdin closes
