"""The agent inbox's web page in real headless Chromium, with a customer on the demo widget in another browser
context: hand-off, the agent's notification, a reply the customer sees live, hand back, the bot answers again;
agents' presence decides the honest notice; customer text, names and notes never run as script."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bots.inbox.accounts import Accounts
from bots.runtime import Runtime, open_runtime
from bots.server.app import create_app
from tests import test_widget_browser as widget_browser
from tests.conftest import REPO, demo_config
from tests.inbox_browser import PASSWORD, sign_in, until
from tests.servers import free_port
from tests.test_widget_browser import new_page, open_widget, say, wait_for_text

browser = widget_browser.browser  # real headless Chromium, started as the widget's browser tests start it
expect = pytest.importorskip("playwright.async_api").expect
pytestmark = widget_browser.pytestmark

OUTPUT = REPO / "test-output"
CANNED = "Hi, I'm here to help. One moment while I look at your order."
NOBODY = "Nobody from our team is online"
# Headless Chromium shows no notifications; this records what the page asks the browser to show.
NOTIFICATIONS = """
window.__notes = [];
window.Notification = class { constructor(title, options) { window.__notes.push([title, options.body]); }
  static get permission() { return "granted"; } static requestPermission() { return Promise.resolve("granted"); } };
"""
PAYLOAD = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[TestServer, Runtime]]:
    port = free_port()
    config = demo_config(
        tmp_path / "data", server={"port": port}, handoff={"canned_replies": {"en": [CANNED, "Anything else?"]}}
    )
    async with open_runtime(config) as runtime:
        for name in ("ana", "bo"):
            await Accounts(runtime.store).add(name, PASSWORD)
        async with TestServer(create_app(runtime), host="127.0.0.1", port=port) as server:
            yield server, runtime


async def test_hand_off_reply_seen_live_and_hand_back(served: tuple[TestServer, Runtime], browser) -> None:  # type: ignore[no-untyped-def]
    server, runtime = served
    agent = await new_page(browser, "about:blank", viewport={"width": 1280, "height": 800})
    await agent.add_init_script(NOTIFICATIONS)
    await agent.goto(str(server.make_url("/inbox")))
    await agent.locator("#login-name").fill("ana")
    await agent.locator("#login-password").fill(PASSWORD)
    await agent.locator("#login-form button").click()
    await agent.locator("#presence.online").wait_for()
    assert await runtime.handoff.presence.online() == 1  # type: ignore[union-attr]

    customer = await new_page(browser, str(server.make_url("/")))
    await open_widget(customer)
    await wait_for_text(customer, ".tl-bot", "Stride's shopping assistant")
    await say(customer, "I want to talk to a real person")
    await wait_for_text(customer, ".tl-bot", "I'm passing you to a person from our team")

    # The agent is told: the badge, the notification, the row in "needs a person" with its waiting time
    await expect(agent.locator("#queue-badge")).to_have_text("1 waiting")
    assert await agent.evaluate("window.__notes") == [
        ["A customer needs a person", "A conversation entered the queue."]
    ]
    row = agent.locator("#rows .row").first
    await expect(row.locator(".row-title")).to_have_text("web · en")
    await expect(row.locator(".row-who")).not_to_be_empty()
    await expect(row.locator(".row-last")).to_have_text("I want to talk to a real person")
    await expect(row.locator(".waiting")).to_be_visible()
    await expect(row.locator(".dot.online")).to_be_visible()  # the customer's chat window is open
    await agent.keyboard.press("j")  # the keyboard opens the first conversation
    await expect(agent.locator(".event.user .text").last).to_have_text("I want to talk to a real person")
    await expect(agent.locator(".event.line.handoff span").last).to_have_text("Entered the queue")

    # Typing shows on the customer's side; a canned reply, sent with Ctrl+Enter, arrives live
    await agent.locator(".composer select").select_option(CANNED)
    await expect(agent.locator("#reply-text")).to_have_value(CANNED)
    await agent.locator("#reply-text").press("End")
    await agent.locator("#reply-text").press_sequentially(" :)")
    await customer.locator(".tl-typing").wait_for(state="visible")
    await agent.locator("#reply-text").press("Control+Enter")
    await wait_for_text(customer, ".tl-message", CANNED + " :)")
    await expect(agent.locator("#toast")).to_have_text("Delivered.")
    await expect(agent.locator(".event.agent .text").last).to_have_text(CANNED + " :)")
    await expect(agent.locator("#queue-badge")).to_be_hidden()  # taken: nobody waits any more
    assert await customer.get_by_text(NOBODY).count() == 0  # an agent was online: no "nobody is online"

    # An internal note stays in the inbox
    await agent.locator("#as-note").check()
    await agent.locator("#reply-text").fill("VIP customer")
    await agent.locator(".composer button[type=submit]").click()
    await expect(agent.locator(".event.note .text")).to_have_text("VIP customer")
    viewed = agent.locator("#details li", has_text="product_viewed")  # the retargeting context
    await expect(viewed.locator("a")).to_have_attribute("href", str(server.make_url("/products/TR2")))
    await expect(agent.locator("#details li", has_text="conversation_start").locator("a")).to_have_count(0)
    # room for a name, not a sliver showing "bo" (read in the page: a live update may redraw the header meanwhile)
    await agent.wait_for_function(  # a condition, not one reading: a redraw may replace the control meanwhile
        "() => (document.getElementById('transfer-to')?.getBoundingClientRect().width ?? 0) >= 100"
    )
    await expect(agent.get_by_label("Transfer to")).to_be_visible()
    await agent.locator("[data-list=mine]").click()
    await expect(agent.locator("#rows .row[aria-selected=true]")).to_have_count(1)
    OUTPUT.mkdir(exist_ok=True)
    await agent.screenshot(path=str(OUTPUT / "inbox.png"))  # the README's picture

    await agent.locator("[data-action=hand_back]").click()
    await expect(agent.locator("#toast")).to_have_text("The bot answers again.")
    await say(customer, "hi")
    await wait_for_text(customer, ".tl-bot", "How can I help you today?")
    assert await customer.get_by_text("VIP customer").count() == 0
    assert agent.errors == [] and customer.errors == []  # type: ignore[attr-defined]


async def test_no_agent_online_is_said_and_the_contact_shown(served: tuple[TestServer, Runtime], browser) -> None:  # type: ignore[no-untyped-def]
    server, runtime = served
    presence = runtime.handoff.presence  # type: ignore[union-attr]
    agent = await sign_in(browser, str(server.make_url("/inbox")))
    await agent.context.close()  # the inbox closed: the agent is not online any more

    async def nobody() -> bool:
        return await presence.online() == 0

    await until(nobody)
    customer = await new_page(browser, str(server.make_url("/")))
    await open_widget(customer)
    await say(customer, "I want to talk to a real person")
    await wait_for_text(customer, ".tl-bot", NOBODY)
    await say(customer, f"{PAYLOAD} write to me at carla@example.com")
    await wait_for_text(customer, ".tl-bot", "carla@example.com")

    agent = await sign_in(browser, str(server.make_url("/inbox")), viewport={"width": 900, "height": 1000})  # a tablet
    await agent.locator("#rows .row").first.click()
    await expect(agent.locator(".event.line.handoff span").last).to_have_text(
        "Entered the queue with nobody online: the customer was told"
    )
    await expect(agent.locator(".event.contact .email")).to_have_text("carla@example.com")
    await expect(agent.locator("#details .contact .email")).to_have_text("carla@example.com")
    await expect(agent.locator(".event.user .text").last).to_have_text(f"{PAYLOAD} write to me at carla@example.com")
    assert await agent.evaluate("window.__pwned") is None

    await agent.locator("[data-action=take]").click()
    await expect(agent.locator(".thread-head .status")).to_have_text("held by ana")
    await agent.locator("[data-action=close]").click()
    await expect(agent.locator(".thread-head .status")).to_have_text("closed")
    await agent.keyboard.press("4")
    await expect(agent.locator("#rows .row")).to_have_count(1)


async def test_script_payloads_never_run(served: tuple[TestServer, Runtime], browser) -> None:  # type: ignore[no-untyped-def]
    server, runtime = served
    sender = PAYLOAD.replace(" ", "")  # a REST sender id is the customer's identity as the inbox shows it
    async with aiohttp.ClientSession() as http:
        for text in ("hi", "/product_search", "/talk_to_human", PAYLOAD):
            body = {"sender": sender, "message": text}
            async with http.post(server.make_url("/webhooks/rest/webhook"), json=body) as response:
                assert response.status == 200
    agent = await sign_in(
        browser, str(server.make_url("/inbox")), locale="de-DE"
    )  # the inbox's own words in the browser's language
    await expect(agent.locator("[data-list=queue]")).to_contain_text("Braucht einen Menschen")
    row = agent.locator("#rows .row").first  # who it is (a long id shortened) and what they said last, as text
    await expect(row.locator(".row-who")).to_have_text(f"{sender[:8]}…{sender[-4:]}")
    await expect(row.locator(".row-last")).to_have_text(PAYLOAD)
    await row.click()
    await agent.locator("#as-note").check()
    await agent.locator("#reply-text").fill(PAYLOAD)
    await agent.keyboard.press("Control+Enter")
    await expect(agent.locator(".event.note .text")).to_have_text(PAYLOAD)
    # What the customer saw: the bot's quick replies, and its carousel with pictures and buttons
    await expect(agent.locator(".event.bot .chip", has_text="Find shoes")).to_have_count(1)
    card = agent.locator(".event.bot .card", has_text="City Glide")
    assert await card.locator("img").get_attribute("src") == str(server.make_url("/media/city-glide.png"))
    assert await card.locator("a.button", has_text="View").get_attribute("href") == str(
        server.make_url("/products/CG1")
    )
    await expect(card.locator("span.button", has_text="Buy")).to_have_count(1)  # a postback: shown, not a link
    await expect(agent.locator("#details code").first).to_have_text(sender)
    await agent.locator("#search").fill("<script>")  # search results show the same rows, escaped
    await expect(agent.locator("#rows .row")).to_have_count(1)
    await agent.reload()  # everything rendered again from the server
    await agent.locator("#rows .row").first.click()
    await expect(agent.locator(".event.user .text").last).to_have_text(PAYLOAD)
    assert await agent.evaluate("window.__pwned") is None
    assert agent.dialogs == [] and agent.errors == []  # type: ignore[attr-defined]

    # The figures, with the agent's session (no admin token): today's hand-off is counted
    await agent.locator("#show-figures").click()
    today = agent.locator("#figures tbody tr").last
    await expect(today.locator("td").nth(2)).to_have_text("1")
    await agent.keyboard.press("Escape")
    await expect(agent.locator("#figures")).to_be_hidden()

    # Passed on to another agent: then only bo (or an admin) may close it, and the refusal is shown with its reason
    await agent.get_by_label("Weitergeben an").select_option("bo")  # the transfer control has a visible label
    await agent.locator("[data-action=transfer]").click()
    await expect(agent.locator(".thread-head .status")).to_have_text("bei bo")
    await agent.locator("[data-action=close]").click()
    await expect(agent.locator("#toast.error")).to_contain_text("bo holds this conversation")
    await agent.keyboard.press("2")
    await expect(agent.locator("#rows-empty")).to_be_visible()
    await agent.keyboard.press("3")
    await expect(agent.locator("#rows .row small")).to_have_text("bei bo")
