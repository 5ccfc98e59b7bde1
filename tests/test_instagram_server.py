"""Instagram through the real server: a signed webhook in, the demo bot's answer out to a loopback Graph API,
one thread with the website, and a person's reply under Instagram's 24-hour and HUMAN_AGENT rules."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bots.runtime import Runtime, open_runtime
from bots.server.admin import CHANNELS
from bots.server.app import create_app
from bots.types import Identity
from tests.conftest import demo_config
from tests.fake_instagram_graph import FakeInstagramGraph
from tests.test_instagram import ACCOUNT, envelope, item, message
from tests.test_messenger import sign
from tests.test_web_protocol import open_tab

ADMIN = {"Authorization": "Bearer adm"}


def instagram_section(graph: FakeInstagramGraph, **extra: Any) -> dict[str, Any]:
    """The connectors.instagram section for the fake Graph: no typing bubbles or seen marks, quick retries."""
    return {
        "ig_user_id": ACCOUNT,
        "verify_token": "verify-me",
        "app_secret": graph.app_secret,
        "access_token": graph.access_token,
        "graph_api_url": graph.url,
        "typing_indicators": False,
        "mark_seen": False,
        "retry_base_seconds": 0.01,
        "retry_max_seconds": 0.05,
        **extra,
    }


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[tuple[TestClient, Runtime, FakeInstagramGraph]]:
    graph = FakeInstagramGraph()
    await graph.start()
    instagram = {**instagram_section(graph), "username": "stride.shoes"}
    config = demo_config(
        tmp_path / "data",
        connectors={"instagram": instagram},
        server={"admin_token": "adm", "public_url": "https://shop.example"},
    )
    try:
        async with open_runtime(config) as runtime, TestClient(TestServer(create_app(runtime))) as client:
            yield client, runtime, graph
    finally:
        await graph.close()


async def post(client: TestClient, graph: FakeInstagramGraph, body: dict[str, Any], secret: str = "") -> int:
    raw = json.dumps(body).encode()
    response = await client.post("/webhooks/instagram", data=raw, headers=sign(raw, secret or graph.app_secret))
    await client.app[CHANNELS]["instagram"].idle()
    return response.status


async def test_an_instagram_customer_is_answered_and_a_forged_post_is_refused(server: Any) -> None:
    client, runtime, graph = server
    assert await post(client, graph, envelope(message("ig-1", "m-1", "where is my order?"))) == 200
    thread = await runtime.threads.find(Identity("instagram", "ig-1"))
    assert thread is not None
    replies = graph.messages("ig-1")
    assert replies and all(r["messaging_type"] == "RESPONSE" for r in replies)
    assert graph.violations == []  # within Instagram's limits, as its Send API checks them
    assert await post(client, graph, envelope(message("ig-2", "m-2", "hi")), secret="forged") == 403
    assert await runtime.threads.find(Identity("instagram", "ig-2")) is None and graph.messages("ig-2") == []


async def test_continue_in_instagram_from_the_website_is_one_thread(server: Any) -> None:
    client, runtime, graph = server
    tab, _ = await open_tab(client, "visitor0000000000ig1")
    await tab.send(type="message", id="w1", text="do you have trail shoes?")
    await tab.until_ack("w1")
    web_thread = await runtime.threads.find(Identity("web", "visitor0000000000ig1"))
    await tab.send(type="link", id="l1", to="instagram")
    link = await tab.next("link")
    assert link["url"].startswith("https://ig.me/m/stride.shoes?ref=tl1=")
    ref = parse_qs(urlsplit(link["url"]).query)["ref"][0]
    referral = item("ig-9", referral={"ref": ref, "source": "IGME", "type": "OPEN_THREAD"})
    assert await post(client, graph, envelope(referral)) == 200
    assert await runtime.threads.find(Identity("instagram", "ig-9")) == web_thread
    events = (await runtime.threads.history(web_thread, after=0, limit=1000, kinds=("site_event",))).events
    assert [e.event.data["name"] for e in events][-1] == "thread_linked"
    pushed = await tab.next("messages")  # the website's open tab shows what the bot said on Instagram
    assert pushed["messages"]


async def test_a_person_answers_an_instagram_customer_within_instagrams_rules(server: Any) -> None:
    client, runtime, graph = server
    assert await post(client, graph, envelope(message("ig-5", "m-5", "I want to talk to a person"))) == 200
    thread = await runtime.threads.find(Identity("instagram", "ig-5"))
    sent_before = len(graph.messages("ig-5"))

    async def send(body: dict[str, Any], hours_later: float) -> tuple[int, dict[str, Any]]:
        runtime.threads.clock = lambda: time.time() + hours_later * 3600
        response = await client.post(f"/api/threads/{thread}/messages", json=body, headers=ADMIN)
        return response.status, await response.json()

    status, answer = await send({"text": "Hi, Anna here", "by": "Anna"}, 2)
    assert (status, answer["status"], answer["channel"], answer["tag"]) == (200, "delivered", "instagram", None)
    status, refused = await send({"text": "20% off today"}, 25)
    assert status == 409 and refused["reason"].startswith("outside_window")
    status, human = await send({"text": "Your refund is done", "by": "Anna"}, 6 * 24)
    assert (status, human["messaging_type"], human["tag"]) == (200, "MESSAGE_TAG", "HUMAN_AGENT")
    status, late = await send({"text": "Still there?", "by": "Anna"}, 8 * 24)
    assert status == 409 and late["reason"].startswith("outside_human_agent_window")
    assert [m["message"]["text"] for m in graph.messages("ig-5")[sent_before:]] == [
        "Hi, Anna here",
        "Your refund is done",
    ]


async def test_a_crash_between_two_replies_sends_only_the_second_after_restart(tmp_path: Path) -> None:
    """Instagram marks each reply the Send API accepted, as Messenger does: a restart resumes after them."""
    graph = FakeInstagramGraph()
    await graph.start()
    config = demo_config(tmp_path / "data", connectors={"instagram": instagram_section(graph, send_retries=0)})
    try:
        async with open_runtime(config) as runtime, TestClient(TestServer(create_app(runtime))) as client:
            channel = client.app[CHANNELS]["instagram"]
            mark_sent = channel.inbox.mark_sent

            async def dies_once_marked(key: str, turn: str, count: int) -> None:
                await mark_sent(key, turn, count)
                raise asyncio.CancelledError  # the process stops right after recording the first reply as sent

            channel.inbox.mark_sent = dies_once_marked
            raw = json.dumps(envelope(message("ig-r", "m-r1", "returns"))).encode()
            await client.post("/webhooks/instagram", data=raw, headers=sign(raw, graph.app_secret))
            with contextlib.suppress(asyncio.CancelledError):
                await channel.idle()
            first = [r["message"].get("text") for r in graph.messages("ig-r")]
            assert len(first) == 1
        async with open_runtime(config) as runtime, TestClient(TestServer(create_app(runtime))) as client:
            await client.app[CHANNELS]["instagram"].idle()  # the inbox still holds the item: processed again
            texts = [r["message"].get("text") for r in graph.messages("ig-r")]
            assert len(texts) == 2 and texts[0] == first[0] and len(set(texts)) == 2  # each once, in order
            thread = await runtime.threads.find(Identity("instagram", "ig-r"))
            assert thread is not None
            events = [e.event for e in await runtime.store.events(thread)]
            [delivered] = [e for e in events if e.kind == "delivered"]
            assert delivered.data["sent_before"] == 1
    finally:
        await graph.close()
