"""A first start serves at once with a provisional NLU model while the full one trains, then swaps it in; a
restart serves with the saved full model from its first answer.

The training child is held after it sent the provisional model by the documented test hook
(``THREADLINE_TEST_HOLD_FULL_TRAINING``, a named pipe it reads to its end), so the provisional stage lasts
exactly until the test releases it: no timing decides what the test sees.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest

from bots.flow.model import Bot
from bots.types import OUT_OF_SCOPE
from nlu_models.train_process import HOLD_ENV
from tests.conftest import DEMO_BOT, REPO
from tests.readiness import CEILING_SECONDS, wait_full_model_async, wait_healthy_async, wait_warm
from tests.servers import free_port


@asynccontextmanager
async def server(
    config: Path, data: Path, log: Path, env: dict[str, str]
) -> AsyncIterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bots.cli", "run", "--config", str(config), "--port", str(port)],
            cwd=REPO,
            env={**os.environ, "THREADLINE_DATA_DIR": str(data), "PYTHONPATH": str(REPO), **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield f"http://127.0.0.1:{port}", process
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


async def intents(url: str, texts: list[str]) -> list[str | None]:
    async with aiohttp.ClientSession() as session:
        found = []
        for text in texts:
            async with session.post(f"{url}/model/parse", json={"text": text}) as response:
                assert response.status == 200, await response.text()
                found.append((await response.json())["intent"]["name"])
        return found


async def answer(url: str, sender: str, text: str) -> list[dict[str, object]]:
    async with aiohttp.ClientSession() as session:
        body = {"sender": sender, "message": text}
        async with session.post(f"{url}/webhooks/rest/webhook", json=body) as response:
            assert response.status == 200, await response.text()
            replies: list[dict[str, object]] = await response.json()
            return replies


def release(hold: Path) -> None:
    """Opening a named pipe for writing waits until the child has opened it; closing it lets the child go on."""
    with hold.open("wb") as pipe:
        pipe.write(b"go")


@pytest.mark.timeout(CEILING_SECONDS)
async def test_a_first_start_answers_with_a_provisional_model_then_swaps_in_the_full_one(
    tmp_path: Path, demo_bot: Bot
) -> None:
    # one training example of each intent in three of the demo's languages, with the intent it must get
    # (an out_of_scope example gets the fallback: nlu_models.out_of_scope)
    probes = [
        (examples[0], "nlu_fallback" if intent == OUT_OF_SCOPE else intent)
        for language in ("en", "de", "zh")
        for intent, examples in sorted(demo_bot.examples[language].items())
    ]
    texts, expected = [text for text, _ in probes], [intent for _, intent in probes]
    config = tmp_path / "config.yaml"
    config.write_text(f"bot: {DEMO_BOT}\nstore: sqlite:///t.db\nlog_level: info\n", encoding="utf-8")
    data, hold = tmp_path / "data", tmp_path / "hold"
    os.mkfifo(hold)
    log = tmp_path / "first.log"
    async with server(config, data, log, {HOLD_ENV: str(hold)}) as (url, process):
        first = await wait_healthy_async(url, process, log=log)
        assert first["nlu"] == "provisional" and first["warm"] is False
        assert await intents(url, texts) == expected
        greeting = await answer(url, "first", demo_bot.examples["en"]["greet"][0])
        assert greeting and greeting[0]["text"]
        assert not list((data / "models").glob("*.pkl")), "the full model is held: nothing is saved yet"
        assert "serving with a provisional NLU model while the full one trains" in log.read_text()

        await asyncio.to_thread(release, hold)
        await wait_full_model_async(url, process, log)
        text = log.read_text()
        assert "full NLU model ready" in text and "NLU examples changed or no model yet: trained in" in text, text
        assert await intents(url, texts) == expected
        # the same thread goes on with the full model: its second greeting is answered as the first was
        assert await answer(url, "first", demo_bot.examples["en"]["greet"][0]) == greeting
    (model,) = (data / "models").glob("nlu-stride-*.pkl")

    log = tmp_path / "again.log"  # the hook is set again: a restart that trained would say "provisional"
    async with server(config, data, log, {HOLD_ENV: str(hold)}) as (url, process):
        assert (await wait_healthy_async(url, process, log=log))["nlu"] == "full"
        assert await intents(url, texts) == expected
        warm = await asyncio.to_thread(wait_warm, url, process, log)  # every language's tokenizer built
        assert warm["nlu"] == "full"
    text = log.read_text()
    assert f"NLU model loaded from {model}" in text and "provisional" not in text, text
