"""One thread from the website to Messenger and back, with the widget in real headless Chromium and Messenger
through signed webhooks and the loopback Graph API."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bots.linking.tokens import LinkTokens
from bots.runtime import Runtime, open_runtime
from bots.server.admin import CHANNELS
from bots.server.app import create_app
from bots.types import Identity
from tests.conftest import demo_config
from tests.fake_graph import FakeGraph
from tests.servers import free_port
from tests.test_messenger import PAGE, envelope, messenger_config, sign, text_event, texts_of
from tests.test_widget_browser import CHROMIUM, OUTPUT, browser, new_page, open_widget, say, wait_for_text  # noqa: F401

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make test installs it)")
LINK_SECRET = "browser-link-secret"


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraph]:
    fake = await FakeGraph().start()
    yield fake
    await fake.close()


@pytest.fixture
async def runtime(tmp_path: Path, port: int, graph: FakeGraph) -> AsyncIterator[Runtime]:
    config = demo_config(
        tmp_path / "data",
        server={"port": port},
        connectors={"messenger": messenger_config(graph)},
        linking={
            "secret": LINK_SECRET,
            "messenger_page": "StrideShoes",
            "site_url": f"http://127.0.0.1:{port}/products/TR2",
        },
    )
    async with open_runtime(config) as runtime:
        yield runtime


@pytest.fixture
async def server(runtime: Runtime, port: int) -> AsyncIterator[TestServer]:
    async with TestServer(create_app(runtime), host="127.0.0.1", port=port) as server:
        yield server


async def webhook(server: TestServer, item: dict[str, object]) -> None:
    raw = json.dumps(envelope(item)).encode()
    async with (
        aiohttp.ClientSession() as session,
        session.post(server.make_url("/webhooks/messenger"), data=raw, headers=sign(raw)) as response,
    ):
        assert response.status == 200
    await server.app[CHANNELS]["messenger"].idle()


async def test_website_to_messenger_and_back_in_chromium(
    server: TestServer,
    browser,  # noqa: F811 (the fixture, imported above)
    runtime: Runtime,
    graph: FakeGraph,
) -> None:  # type: ignore[no-untyped-def]
    desktop = await new_page(browser, str(server.make_url("/products/TR2")), viewport={"width": 1100, "height": 800})
    await open_widget(desktop)
    await wait_for_text(desktop, ".tl-bot", "Looking at the Trail Runner 2")  # the page view is context
    await say(desktop, "/order_status")
    await wait_for_text(desktop, ".tl-bot", "What's your order number?")
    thread = await runtime.store.find(Identity("web", await desktop.evaluate("Threadline.visitorId()")))
    assert thread is not None

    # "Continue in Messenger" opens m.me with a fresh link token (m.me itself is stubbed: no internet here)
    await desktop.context.route(
        "https://m.me/**", lambda route: route.fulfill(body="<p>Messenger</p>", content_type="text/html")
    )
    button = desktop.locator(".tl-messenger")
    assert await button.is_visible() and await button.inner_text() == "Continue in Messenger"
    async with desktop.context.expect_page() as opened:
        await button.click()
    messenger_tab = await opened.value
    await messenger_tab.wait_for_url("https://m.me/**")
    url = urlsplit(messenger_tab.url)
    assert url.path == "/StrideShoes"
    ref = parse_qs(url.query)["ref"][0]

    # Messenger delivers it with the Get Started tap: same thread, greeted with context, the question again
    await webhook(
        server,
        {
            "sender": {"id": "psid-77"},
            "recipient": {"id": PAGE},
            "timestamp": int(time.time() * 1000),
            "postback": {
                "payload": "__GET_STARTED__",
                "title": "Get Started",
                "mid": "m-gs-77",
                "referral": {"ref": ref, "source": "SHORTLINK", "type": "OPEN_THREAD"},
            },
        },
    )
    assert await runtime.store.find(Identity("messenger", "psid-77")) == thread
    said = texts_of(graph.messages("psid-77"))
    assert said[0] == "Welcome back 👋 Still looking at the Trail Runner 2?"
    assert said[-1].startswith("Back to your question: What's your order number?")  # the reprompt
    await webhook(server, text_event("psid-77", "ST-123456", "mid.77.answer"))
    assert any("Trail Runner 2, EU 42" in t for t in texts_of(graph.messages("psid-77")))
    # the website's chat window, still open on the desktop, shows the Messenger conversation as it happens
    await wait_for_text(desktop, ".tl-user", "ST-123456")
    await wait_for_text(desktop, ".tl-bot", "Trail Runner 2, EU 42")

    # ... and from Messenger back to the website, on another device
    await webhook(
        server,
        {
            "sender": {"id": "psid-77"},
            "recipient": {"id": PAGE},
            "timestamp": int(time.time() * 1000),
            "postback": {"payload": "/continue_elsewhere", "title": "Website", "mid": "m-sw-77"},
        },
    )
    buttons = graph.messages("psid-77")[-1]["message"]["attachment"]["payload"]["buttons"]
    site_link = buttons[0]["url"]
    assert buttons[0]["type"] == "web_url" and "tl_link=tl1%3D" in site_link
    phone = await new_page(browser, site_link, viewport={"width": 390, "height": 800})
    await phone.locator(".tl-panel").wait_for(state="visible")  # opened by itself: the chat goes on here
    await wait_for_text(phone, ".tl-user", "ST-123456")  # typed in Messenger, shown on the website
    await wait_for_text(phone, ".tl-bot", "Welcome back 👋 Still looking at the Trail Runner 2?")
    users = await phone.locator(".tl-user .tl-text").all_inner_texts()
    assert users[0] == "/order_status" and "ST-123456" in users
    assert "tl_link" not in phone.url  # taken off the address bar
    OUTPUT.mkdir(exist_ok=True)
    await phone.screenshot(path=str(OUTPUT / "widget-continued-from-messenger.png"))
    phone_visitor = await phone.evaluate("Threadline.visitorId()")
    assert await runtime.store.find(Identity("web", phone_visitor)) == thread
    # later visits from that browser stay on the thread
    await phone.goto(str(server.make_url("/products/CG1")))
    await phone.locator(".tl-panel").wait_for(state="visible")  # still open on the visit's next page
    await wait_for_text(phone, ".tl-user", "ST-123456")
    assert phone.errors == [] and desktop.errors == []  # type: ignore[attr-defined]


async def test_a_forged_or_used_link_is_refused_in_the_widget(
    server: TestServer,
    browser,  # noqa: F811
    runtime: Runtime,
) -> None:  # type: ignore[no-untyped-def]
    owner = await new_page(browser, str(server.make_url("/")))
    await open_widget(owner)
    await say(owner, "hi")
    await wait_for_text(owner, ".tl-bot", "How can I help you today?")
    thread = await runtime.store.find(Identity("web", await owner.evaluate("Threadline.visitorId()")))
    assert thread is not None
    forged = LinkTokens("not-the-secret", 600).issue(thread, "to_web")
    stranger = await new_page(browser, str(server.make_url(f"/?tl_link={forged}")))
    status = stranger.locator(".tl-status")
    await open_widget(stranger)
    await status.filter(has_text="This link is not valid").wait_for(timeout=10_000)
    assert await stranger.locator(".tl-user").count() == 0  # none of the owner's chat
    visitor = await stranger.evaluate("Threadline.visitorId()")
    assert await runtime.store.find(Identity("web", visitor)) != thread

    genuine = LinkTokens(LINK_SECRET, 600).issue(thread, "to_web")
    first = await new_page(browser, str(server.make_url(f"/?tl_link={genuine}")))
    await wait_for_text(first, ".tl-user", "hi")
    second = await new_page(browser, str(server.make_url(f"/?tl_link={genuine}")))  # the same link, elsewhere
    await open_widget(second)
    await second.locator(".tl-status").filter(has_text="already used").wait_for(timeout=10_000)
    assert await second.locator(".tl-user").count() == 0


async def test_a_browser_with_its_own_chat_is_asked_before_joining_a_linked_one(
    server: TestServer,
    browser,  # noqa: F811
    runtime: Runtime,
) -> None:  # type: ignore[no-untyped-def]
    other = await new_page(browser, str(server.make_url("/")))
    await open_widget(other)
    await say(other, "question from the other chat")
    await wait_for_text(other, ".tl-user", "question from the other chat")
    other_thread = await runtime.store.find(Identity("web", await other.evaluate("Threadline.visitorId()")))
    assert other_thread is not None

    mine = await new_page(browser, str(server.make_url("/")))
    await open_widget(mine)
    await say(mine, "my own chat")
    await wait_for_text(mine, ".tl-user", "my own chat")
    visitor = await mine.evaluate("Threadline.visitorId()")
    token = LinkTokens(LINK_SECRET, 600).issue(other_thread, "to_web")
    await mine.goto(str(server.make_url(f"/?tl_link={token}")))
    confirm = mine.locator(".tl-confirm")
    await confirm.wait_for(timeout=10_000)
    assert "Continue your Messenger chat here?" in await confirm.inner_text()
    assert await runtime.store.find(Identity("web", visitor)) != other_thread  # nothing joined yet
    await confirm.get_by_role("button", name="Continue here").click()
    await wait_for_text(mine, ".tl-user", "question from the other chat")
    assert await runtime.store.find(Identity("web", visitor)) == other_thread
    users = await mine.locator(".tl-user .tl-text").all_inner_texts()
    assert users.count("my own chat") == 1 and users.count("question from the other chat") == 1  # merged, once
    assert mine.errors == []  # type: ignore[attr-defined]
