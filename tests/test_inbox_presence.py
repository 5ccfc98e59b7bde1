"""The inbox drives agents' presence: with an inbox's live connection open a hand-off never tells the customer
"nobody is online", and with none open it does. Agents read the operator figures and canned replies with their
own session."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bots.inbox.accounts import Accounts
from bots.runtime import Runtime, open_runtime
from bots.server.app import create_app
from tests.conftest import demo_config
from tests.inbox_client import AgentClient

PASSWORD = "correct horse battery"
NOBODY = "Nobody from our team is online"
CANNED = {"en": ["One moment, please."], "de": ["Einen Moment, bitte."]}


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[TestServer, Runtime, AgentClient]]:
    async with open_runtime(demo_config(tmp_path / "data", handoff={"canned_replies": CANNED})) as runtime:
        await Accounts(runtime.store).add("ana", PASSWORD)
        async with TestServer(create_app(runtime)) as server:
            agent = AgentClient(str(server.make_url("")).rstrip("/"), "ana", PASSWORD)
            assert (await agent.login()).status == 200
            yield server, runtime, agent
            await agent.close()


async def hand_off(server: TestServer, sender: str) -> list[str]:
    async with aiohttp.ClientSession() as http:
        body = {"sender": sender, "message": "/talk_to_human"}
        async with http.post(server.make_url("/webhooks/rest/webhook"), json=body) as response:
            assert response.status == 200
            return [str(m.get("text", "")) for m in await response.json()]


async def queue_event(agent: AgentClient, sender: str) -> dict[str, Any]:
    [row] = await agent.queue(q=sender)
    status, view = await agent.get(f"/inbox/api/conversations/{row['thread_id']}")
    assert status == 200
    return dict(next(e["data"] for e in view["events"] if e["kind"] == "handoff_queue"))


async def test_an_open_inbox_is_an_agent_online(served: tuple[TestServer, Runtime, AgentClient]) -> None:
    server, runtime, agent = served
    socket = await agent.live()  # "ready" comes once this connection counts
    texts = await hand_off(server, "carla")
    assert texts and not any(NOBODY in text for text in texts)
    assert await queue_event(agent, "carla") == {"open": True, "agents_online": 1, "notice": None}

    await socket.close()
    presence = runtime.handoff.presence  # type: ignore[union-attr]
    async with asyncio.timeout(20):  # the server notices the closed socket: a condition, not a pause
        while await presence.online():
            await asyncio.sleep(0.05)
    texts = await hand_off(server, "dora")
    assert any(NOBODY in text for text in texts)
    assert await queue_event(agent, "dora") == {"open": True, "agents_online": 0, "notice": "no_agent"}


async def test_figures_and_canned_replies_with_an_agent_session(
    served: tuple[TestServer, Runtime, AgentClient],
) -> None:
    server, _runtime, agent = served
    await hand_off(server, "carla")
    status, figures = await agent.get("/inbox/api/figures", days="3")
    assert status == 200
    assert len(figures["days"]) == 3 and figures["days"][-1]["handoffs"] == 1
    assert figures["agents_online"] == 0
    assert (await agent.get("/inbox/api/figures", days="0"))[0] == 400
    assert (await agent.get("/inbox/api/figures", days="x"))[0] == 400
    assert await agent.get("/inbox/api/canned") == (200, {"replies": CANNED})
    async with aiohttp.ClientSession() as stranger:
        for path in ("/inbox/api/figures", "/inbox/api/canned"):
            async with stranger.get(server.make_url(path)) as response:
                assert response.status == 401, path
