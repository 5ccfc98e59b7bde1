"""An agent's reply to a Messenger customer, under Meta's policy, through the loopback Graph API fake: within
24 hours a plain response, up to 7 days with the HUMAN_AGENT tag, later refused with the reason returned. A
person answering from the Facebook Page's own inbox is a person on it, not a customer asking for one."""

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
from tests.test_messenger import PAGE, envelope, graph, messenger_config, sign, text_event

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


async def test_an_answer_from_the_page_inbox_is_no_request_for_a_person(
    served: tuple[TestServer, Runtime], graph: FakeGraph
) -> None:
    server, _ = served
    app = server.app
    assert app is not None
    connector = app[CHANNELS]["messenger"]
    ana = AgentClient(str(server.make_url("")), "ana", PASSWORD)
    person = {
        "sender": {"id": PAGE},
        "recipient": {"id": "p7"},
        "timestamp": 2,
        "message": {"is_echo": True, "app_id": 263902037430900, "mid": "m-echo-7", "text": "Hi, Lea here."},
    }
    try:
        assert (await ana.login()).status == 200
        for item in (text_event("p7", "where is my order", "m-7"), person):
            raw = json.dumps(envelope(item)).encode()
            async with ana.http.post(server.make_url("/webhooks/messenger"), data=raw, headers=sign(raw)) as response:
                assert response.status == 200
            await connector.idle()
        assert await ana.queue() == []  # nobody waits: a person of the page is already on it
        [row] = await ana.queue("open")  # yet the agents see the conversation, with the person's answer
        assert (row["channels"], row["queued_at"], row["assignee"]) == (["messenger"], None, None)
        status, view = await ana.get(f"/inbox/api/conversations/{row['thread_id']}")
        assert status == 200 and view["handoff"] is True
        assert [e["data"]["text"] for e in view["events"] if e["kind"] == "agent"] == ["Hi, Lea here."]
        status, figures = await ana.get("/inbox/api/figures", days="1")
        assert status == 200 and figures["days"][-1]["handoffs"] == 0
    finally:
        await ana.close()
