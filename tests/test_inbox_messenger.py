"""An agent's reply to a Messenger customer, under Meta's policy, through the loopback Graph API fake: within
24 hours a plain response, up to 7 days with the HUMAN_AGENT tag, later refused with the reason returned."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from bots.inbox.accounts import Accounts
from bots.runtime import Runtime, open_runtime
from bots.server.admin import CHANNELS
from bots.server.app import create_app
from tests.conftest import demo_config
from tests.fake_graph import FakeGraph
from tests.inbox_client import AgentClient
from tests.test_messenger import envelope, graph, messenger_config, sign, text_event

__all__ = ["graph"]  # the loopback Graph API fake, a fixture

PASSWORD = "correct horse battery"


@pytest.fixture
async def served(tmp_path: Path, graph: FakeGraph) -> AsyncIterator[tuple[TestServer, Runtime]]:
    config = demo_config(tmp_path / "data", connectors={"messenger": messenger_config(graph)})
    async with open_runtime(config) as runtime:
        await Accounts(runtime.store).add("ana", PASSWORD)
        server = TestServer(create_app(runtime))
        await server.start_server()
        yield server, runtime
        await server.close()


async def test_replies_follow_the_24_hour_and_7_day_rules(served: tuple[TestServer, Runtime], graph: FakeGraph) -> None:
    server, runtime = served
    app = server.app
    assert app is not None
    connector = app[CHANNELS]["messenger"]

    ana = AgentClient(str(server.make_url("")), "ana", PASSWORD)
    try:
        assert (await ana.login()).status == 200
        raw = json.dumps(envelope(text_event("p9", "/talk_to_human", "m-1"))).encode()
        async with ana.http.post(server.make_url("/webhooks/messenger"), data=raw, headers=sign(raw)) as response:
            assert response.status == 200
        await connector.idle()
        [row] = await ana.queue()
        assert row["channels"] == ["messenger"]
        thread = row["thread_id"]
        sent_before = len(graph.messages("p9"))

        async def reply(text: str, hours_later: float) -> tuple[int, dict[str, object]]:
            # the clock the unit of work and the channel already take (tests.test_messenger does the same)
            connector.clock = runtime.threads.clock = lambda: time.time() + hours_later * 3600
            return await ana.post(f"/inbox/api/conversations/{thread}/reply", {"text": text})

        status, first = await reply("Ana here", 2)
        assert (status, first["status"], first["messaging_type"]) == (200, "delivered", "RESPONSE")
        status, tagged = await reply("Still on it", 6 * 24)
        assert (status, tagged["messaging_type"], tagged["tag"]) == (200, "MESSAGE_TAG", "HUMAN_AGENT")
        status, late = await reply("Sorry for the wait", 8 * 24)
        assert status == 409 and late["sent"] is False and late["status"] == "refused"
        assert str(late["reason"]).startswith("outside_human_agent_window")
        sent = graph.messages("p9")[sent_before:]
        assert [(b["messaging_type"], b.get("tag"), b["message"]["text"]) for b in sent] == [
            ("RESPONSE", None, "Ana here"),
            ("MESSAGE_TAG", "HUMAN_AGENT", "Still on it"),
        ]  # nothing reported as sent that was not
    finally:
        await ana.close()
