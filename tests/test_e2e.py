"""End to end: the real `threadline run` process on a loopback port, talked to over HTTP, restarted mid-chat."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import DEMO_BOT, REPO
from tests.readiness import CEILING_SECONDS, wait_healthy_async
from tests.servers import free_port
from tests.trained_models import provide_demo_model


class Server:
    def __init__(self, config: Path, data_dir: Path, log: Path) -> None:
        self.config, self.data_dir, self.log = config, data_dir, log
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        provide_demo_model(self.data_dir)
        env = {**os.environ, "THREADLINE_DATA_DIR": str(self.data_dir), "THREADLINE_ADMIN_TOKEN": "e2e-token"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bots.cli", "run", "--config", str(self.config), "--port", str(self.port)],
            cwd=REPO,
            env=env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        await wait_healthy_async(self.url, self.process, log=self.log)

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    config = tmp_path / "config.yaml"
    config.write_text(
        f"bot: {DEMO_BOT}\nstore: sqlite:///e2e.db\nserver:\n  admin_token: ${{THREADLINE_ADMIN_TOKEN}}\n"
    )
    server = Server(config, tmp_path / "data", tmp_path / "server.log")
    yield server
    if server.process is not None and server.process.poll() is None:
        server.process.kill()
        server.process.wait()


async def chat(session: aiohttp.ClientSession, server: Server, sender: str, message: str) -> list[dict[str, Any]]:
    async with session.post(f"{server.url}/webhooks/rest/webhook", json={"sender": sender, "message": message}) as r:
        assert r.status == 200, await r.text()
        return await r.json()


def said(replies: list[dict[str, Any]]) -> str:
    return " | ".join(r.get("text", "") for r in replies)


@pytest.mark.timeout(CEILING_SECONDS)  # a first start trains the NLU: its time is the machine's, not a bug
async def test_conversations_in_several_languages_survive_a_restart(server: Server) -> None:
    await server.start()
    async with aiohttp.ClientSession() as session:
        health = await (await session.get(f"{server.url}/health")).json()
        assert health["status"] == "ok" and health["store"] == "sqlite"

        # German: ask for size help, answer, then a pending order question
        assert "Größe" in said(await chat(session, server, "de-kunde", "welche größe soll ich nehmen?"))
        assert "43" in said(await chat(session, server, "de-kunde", "43"))
        assert "Bestellnummer" in said(await chat(session, server, "de-kunde", "wo ist meine Bestellung?"))
        # Spanish and Chinese in parallel threads
        assert "zapatillas" in said(await chat(session, server, "es-cliente", "busco zapatillas para correr"))
        assert "退货" in said(await chat(session, server, "zh-kehu", "我想退货"))

    assert server.stop() == 0  # clean shutdown on SIGTERM
    await server.start()
    async with aiohttp.ClientSession() as session:
        # the pending question, the language and the slot all came back
        shipped = said(await chat(session, server, "de-kunde", "ST-123456"))
        assert shipped.startswith("Gute Nachrichten! Deine Bestellung ST-123456 (Trail Runner 2, EU 42)"), shipped
        cart = said(await chat(session, server, "de-kunde", '/buy{"sku": "CG1"}'))
        assert "City Glide" in cart and "43" in cart, cart  # size remembered: not asked again
        # ST-234567 was delivered, so the Chinese return flow goes on to ask why
        assert said(await chat(session, server, "zh-kehu", "ST-234567")) == "请问退货的原因是什么？"
        async with session.get(f"{server.url}/api/threads/unknown", headers={"Authorization": "Bearer e2e-token"}) as r:
            assert r.status == 404
    assert server.stop() == 0
    log = server.log.read_text()
    assert "Traceback" not in log, log
