"""The inbox's page in real headless Chromium with a Messenger customer, through the loopback Graph API fake:
the agent sees the hand-off and replies under Meta's policy (a plain response within 24 hours, the HUMAN_AGENT
tag up to 7 days), and a reply after 7 days is refused, with its reason shown to the agent in the page."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bots.inbox.accounts import Accounts
from bots.runtime import Runtime, open_runtime
from bots.server.admin import CHANNELS
from bots.server.app import create_app
from tests import test_widget_browser as widget_browser
from tests.conftest import demo_config
from tests.fake_graph import FakeGraph
from tests.inbox_browser import PASSWORD, sign_in
from tests.servers import free_port
from tests.test_messenger import envelope, graph, messenger_config, sign, text_event

browser = widget_browser.browser  # real headless Chromium, started as the widget's browser tests start it
expect = pytest.importorskip("playwright.async_api").expect
pytestmark = widget_browser.pytestmark
__all__ = ["browser", "graph"]  # fixtures


@pytest.fixture
async def served(tmp_path: Path, graph: FakeGraph) -> AsyncIterator[tuple[TestServer, Runtime]]:
    port = free_port()
    config = demo_config(tmp_path / "data", server={"port": port}, connectors={"messenger": messenger_config(graph)})
    async with open_runtime(config) as runtime:
        await Accounts(runtime.store).add("ana", PASSWORD)
        async with TestServer(create_app(runtime), host="127.0.0.1", port=port) as server:
            yield server, runtime


async def test_messenger_hand_off_and_replies_under_the_24_hour_and_7_day_rules(  # type: ignore[no-untyped-def]
    served: tuple[TestServer, Runtime], graph: FakeGraph, browser
) -> None:
    server, runtime = served
    assert server.app is not None
    connector = server.app[CHANNELS]["messenger"]
    agent = await sign_in(browser, str(server.make_url("/inbox")), viewport={"width": 1280, "height": 800})

    raw = json.dumps(envelope(text_event("p9", "I want to talk to a real person", "m-1"))).encode()
    async with (
        aiohttp.ClientSession() as http,
        http.post(server.make_url("/webhooks/messenger"), data=raw, headers=sign(raw)) as response,
    ):
        assert response.status == 200
    await connector.idle()
    await expect(agent.locator("#queue-badge")).to_have_text("1 waiting")
    row = agent.locator("#rows .row").first
    await expect(row.locator(".row-title")).to_contain_text("messenger")
    await row.click()
    await expect(agent.locator(".event.user .text").last).to_have_text("I want to talk to a real person")
    await expect(agent.locator(".event.line.handoff span").last).to_contain_text("Entered the queue")
    sent_before = len(graph.messages("p9"))

    async def reply(text: str, hours_later: float) -> None:
        # the clock the unit of work and the channel already take (tests.test_messenger does the same)
        connector.clock = runtime.threads.clock = lambda: time.time() + hours_later * 3600
        await agent.locator("#reply-text").fill(text)
        await agent.locator("#reply-text").press("Control+Enter")

    await reply("Ana here", 2)
    await expect(agent.locator(".event.agent .text").last).to_have_text("Ana here")  # the answer's toast is set by then
    await expect(agent.locator("#toast")).to_have_text("Delivered.")
    await expect(agent.locator("#queue-badge")).to_be_hidden()  # answered: nobody waits any more
    await reply("Still on it", 6 * 24)
    await expect(agent.locator(".event.agent .text").last).to_have_text("Still on it")
    await expect(agent.locator("#toast")).to_have_text("Delivered.")
    await reply("Sorry for the wait", 8 * 24)
    await expect(agent.locator("#toast.error")).to_contain_text("Not sent: outside_human_agent_window")
    await expect(agent.locator(".event.refused").last).to_contain_text("outside_human_agent_window")
    await expect(agent.locator(".event.agent .text", has_text="Sorry for the wait")).to_have_count(0)

    sent = graph.messages("p9")[sent_before:]
    assert [(b["messaging_type"], b.get("tag"), b["message"]["text"]) for b in sent] == [
        ("RESPONSE", None, "Ana here"),
        ("MESSAGE_TAG", "HUMAN_AGENT", "Still on it"),
    ]  # the tag went to the Graph API; the refused reply went nowhere
    assert agent.errors == []  # type: ignore[attr-defined]
