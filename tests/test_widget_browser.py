"""The widget in real headless Chromium (Debian's, driven by Playwright), against the real server."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bots.runtime import Runtime, open_runtime
from bots.server.app import create_app
from tests.conftest import REPO, demo_config
from tests.servers import free_port

playwright_api = pytest.importorskip("playwright.async_api")
expect = playwright_api.expect
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make test installs it)")
OUTPUT = REPO / "test-output"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
async def runtime(tmp_path: Path, port: int) -> AsyncIterator[Runtime]:
    # The server's own address is its public URL, as with `threadline run`: media and links point at it.
    async with open_runtime(demo_config(tmp_path / "data", server={"port": port})) as runtime:
        yield runtime


@pytest.fixture
async def server(runtime: Runtime, port: int) -> AsyncIterator[TestServer]:
    async with TestServer(create_app(runtime), host="127.0.0.1", port=port) as server:
        yield server


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    async with playwright_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        await browser.close()


async def new_page(browser, url: str, **context_options):  # type: ignore[no-untyped-def]
    context = await browser.new_context(**context_options)
    page = await context.new_page()
    page.dialogs = []  # type: ignore[attr-defined]
    page.errors = []  # type: ignore[attr-defined]
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    await page.goto(url)
    return page


def bot_texts(page):  # type: ignore[no-untyped-def]
    return page.locator(".tl-bot .tl-text")


async def open_widget(page) -> None:  # type: ignore[no-untyped-def]
    await page.locator(".tl-launcher").click()
    await page.locator(".tl-panel").wait_for(state="visible")


async def say(page, text: str) -> None:  # type: ignore[no-untyped-def]
    await page.locator(".tl-input").fill(text)
    await page.keyboard.press("Enter")


async def wait_for_text(page, selector: str, text: str) -> None:  # type: ignore[no-untyped-def]
    await page.locator(selector, has_text=text).last.wait_for(timeout=10_000)


async def test_chat_journey_with_buttons_carousel_cta_and_quick_replies(server: TestServer, browser, runtime) -> None:  # type: ignore[no-untyped-def]
    page = await new_page(browser, str(server.make_url("/")), viewport={"width": 1100, "height": 800})
    await open_widget(page)
    await wait_for_text(page, ".tl-bot", "Stride's shopping assistant")  # conversation_start on first open
    await say(page, "hi")
    await wait_for_text(page, ".tl-bot", "How can I help you today?")
    assert await page.locator(".tl-chip").all_inner_texts() == ["Track my order", "Find shoes", "Size help", "Returns"]
    await page.locator(".tl-chip", has_text="Find shoes").click()  # a quick reply
    await page.locator(".tl-carousel").wait_for()
    assert await page.locator(".tl-chip").count() == 0  # quick replies disappear once used
    assert await page.locator(".tl-user .tl-text").last.inner_text() == "Find shoes"  # shown by title
    card = page.locator(".tl-card", has_text="City Glide")
    assert await card.locator("img").get_attribute("src") == str(server.make_url("/media/city-glide.png"))
    await card.scroll_into_view_if_needed()
    await page.wait_for_function(  # the screenshot shows the card's picture, not an empty frame
        "img => img.complete && img.naturalHeight > 0", arg=await card.locator("img").element_handle()
    )
    OUTPUT.mkdir(exist_ok=True)
    await page.screenshot(path=str(OUTPUT / "widget-carousel.png"))
    await card.get_by_role("button", name="Buy").click()  # the card's call-to-action
    await wait_for_text(page, ".tl-bot", "Great choice: the City Glide (€99). Which size (EU)?")
    await page.locator(".tl-chip", has_text="42").click()
    await wait_for_text(page, ".tl-bot", "I've put the City Glide in size 42 in your cart.")
    checkout = page.locator(".tl-bot a.tl-button", has_text="Go to checkout").last
    assert await checkout.get_attribute("href") == str(server.make_url("/cart?sku=CG1&size=42"))
    assert await checkout.get_attribute("target") == "_blank"
    assert page.errors == [] and page.dialogs == []  # type: ignore[attr-defined]

    # reload: same thread, full history, and the bot still knows the size
    await page.reload()
    await page.locator(".tl-panel").wait_for(state="visible")  # kept open for the visit
    await wait_for_text(page, ".tl-bot", "I've put the City Glide in size 42 in your cart.")
    assert await page.locator(".tl-user .tl-text").all_inner_texts() == ["hi", "Find shoes", "Buy", "42"]
    await page.locator(".tl-card", has_text="Trail Runner 2").get_by_role("button", name="Buy").click()
    # the size is not asked again: the remembered one is offered, to confirm before it goes in the cart
    await wait_for_text(
        page, ".tl-bot", "Great choice: the Trail Runner 2 (€129) in size 42. Shall I put it in your cart?"
    )
    await page.get_by_role("button", name="Yes, add it").click()
    await wait_for_text(page, ".tl-bot", "I've put the Trail Runner 2 in size 42 in your cart.")
    threads = await runtime.store.thread_ids()
    assert len(threads) == 1


async def test_two_tabs_see_the_same_messages(server: TestServer, browser) -> None:  # type: ignore[no-untyped-def]
    first = await new_page(browser, str(server.make_url("/")))
    second = await first.context.new_page()
    await second.goto(str(server.make_url("/products/MP3")))
    await open_widget(first)
    await open_widget(second)
    await wait_for_text(first, ".tl-bot", "Stride's shopping assistant")
    await say(first, "where is my order?")
    await wait_for_text(second, ".tl-user", "where is my order?")
    await wait_for_text(second, ".tl-bot", "What's your order number?")
    await say(second, "ST-345678")
    await wait_for_text(first, ".tl-bot", "Your order ST-345678 (Marathon Pro, EU 44) is being packed")
    assert (
        await first.locator(".tl-user .tl-text").all_inner_texts()
        == await second.locator(".tl-user .tl-text").all_inner_texts()
        == ["where is my order?", "ST-345678"]
    )


async def test_offline_message_is_queued_and_delivered_once(server: TestServer, browser, runtime) -> None:  # type: ignore[no-untyped-def]
    page = await new_page(browser, str(server.make_url("/")))
    await open_widget(page)
    await say(page, "where is my order?")
    await wait_for_text(page, ".tl-bot", "What's your order number?")
    await page.context.set_offline(True)
    await wait_for_text(page, ".tl-status", "You're offline")
    await say(page, "ST-123456")
    pending = page.locator(".tl-pending", has_text="ST-123456")
    await pending.wait_for()
    await expect(pending.locator(".tl-state")).to_have_text("Sending…")
    # kept for this tab's visit (a reload would still send it), and nothing of it reached the server
    await page.wait_for_function(
        "text => Object.keys(sessionStorage).some(key => key.startsWith('threadline:outbox:') &&"
        " JSON.parse(sessionStorage.getItem(key)).some(frame => frame.text === text))",
        arg="ST-123456",
    )
    [thread] = await runtime.store.thread_ids()
    assert "ST-123456" not in [e.event.data.get("text") for e in await runtime.store.events(thread)]
    await page.context.set_offline(False)
    await wait_for_text(page, ".tl-bot", "Your order ST-123456 (Trail Runner 2, EU 42) has shipped")
    assert await page.locator(".tl-pending").count() == 0
    assert await page.locator(".tl-user .tl-text", has_text="ST-123456").count() == 1
    [thread] = await runtime.store.thread_ids()
    texts = [e.event.data["text"] for e in await runtime.store.events(thread) if e.event.kind == "user"]
    assert texts.count("ST-123456") == 1


async def test_markup_from_customers_is_shown_as_text_and_never_runs(server: TestServer, browser) -> None:  # type: ignore[no-untyped-def]
    page = await new_page(browser, str(server.make_url("/")))
    requested: list[str] = []  # an <img src=x> made from the text, even detached, would ask for /x
    page.on("request", lambda request: requested.append(request.url))
    await open_widget(page)
    attack = "<img src=x onerror=alert(1)>"
    await say(page, attack)
    await wait_for_text(page, ".tl-bot", "Sorry, I didn't get that.")
    assert await page.locator(".tl-user .tl-text").last.inner_text() == attack
    assert await page.locator(".tl-log img[src='x']").count() == 0
    await page.reload()
    await page.locator(".tl-panel").wait_for(state="visible")  # kept open for the visit
    await wait_for_text(page, ".tl-user", attack)  # from history too
    await say(page, "are you a bot?")  # a later marker: what the history could have started came before it
    await wait_for_text(page, ".tl-bot", "Yes, I'm a bot")
    assert not [url for url in requested if url.endswith("/x")]
    assert page.dialogs == [] and page.errors == []  # type: ignore[attr-defined]


async def test_a_site_not_allowed_is_refused(server: TestServer, browser, runtime) -> None:  # type: ignore[no-untyped-def]
    bot = str(server.make_url("")).rstrip("/")
    host_page = (
        f"<!doctype html><title>Another shop</title><h1>Another shop</h1>"
        f'<script src="{bot}/widget.js" data-bot-url="{bot}" async></script>'
    )

    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=host_page, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", handler)
    async with TestServer(app, host="localhost") as other:  # another origin: a different host and port
        page = await new_page(browser, str(other.make_url("/")))
        await open_widget(page)
        await wait_for_text(page, ".tl-status-error", "This website is not allowed to use this chat.")
        to_bot: list[str] = []  # what the page asks of the bot once refused (requests and WebSockets)
        page.on("request", lambda request: to_bot.append(request.url) if request.url.startswith(bot) else None)
        page.on("websocket", lambda socket: to_bot.append(socket.url))
        await say(page, "hello")
        await page.locator(".tl-pending", has_text="hello").wait_for()
        marker = f"{bot}/widget-texts.json?marker"  # asked after the message: the widget's tries came before it
        async with page.expect_request(marker):
            await page.evaluate("url => fetch(url).catch(() => null)", marker)
        assert to_bot == [marker]  # the refused widget sent nothing, not even a new hello
    assert await runtime.store.thread_ids() == []


async def test_site_events_and_unread_badge(server: TestServer, browser) -> None:  # type: ignore[no-untyped-def]
    page = await new_page(browser, str(server.make_url("/products/CG1")))
    await page.locator(".tl-launcher").wait_for()
    await page.goto(str(server.make_url("/products/CG1")))  # the same shoe viewed a second time
    badge = page.locator(".tl-badge")
    await badge.wait_for(state="visible", timeout=10_000)
    assert await badge.inner_text() == "1"
    assert "1 unread" in (await page.locator(".tl-launcher").get_attribute("aria-label") or "")
    await open_widget(page)
    await wait_for_text(page, ".tl-bot", "Still thinking about the City Glide?")
    assert await page.locator(".tl-bot img.tl-media").get_attribute("src") == str(
        server.make_url("/media/stride-wave.gif")
    )
    assert await badge.is_hidden()


async def test_phone_screen_keyboard_and_language(server: TestServer, browser) -> None:  # type: ignore[no-untyped-def]
    page = await new_page(
        browser,
        str(server.make_url("/")),
        viewport={"width": 360, "height": 740},
        locale="de-DE",
        is_mobile=True,
        has_touch=True,
    )
    await page.keyboard.press("Tab")
    await page.locator(".tl-launcher").focus()
    await page.keyboard.press("Enter")  # keyboard opens it
    panel = page.locator(".tl-panel")
    await panel.wait_for(state="visible")
    box = await panel.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360 and box["height"] > 400
    await wait_for_text(page, ".tl-bot", "Ich bin der Shopping-Assistent von Stride")  # the browser's language
    assert await page.get_by_role("dialog", name="Stride").is_visible()
    assert await page.get_by_role("log", name="Unterhaltung").is_visible()  # the widget's own words in German too
    assert await page.locator(".tl-input").evaluate("e => e.getRootNode().activeElement === e")  # focus moved in
    await say(page, "welche größe soll ich nehmen?")
    await wait_for_text(page, ".tl-bot", "Größe")
    await page.keyboard.press("Escape")
    await panel.wait_for(state="hidden")
    assert await page.locator(".tl-launcher").get_attribute("aria-expanded") == "false"


async def test_http_fallback_when_websocket_cannot_connect(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    config = demo_config(tmp_path / "data", connectors={"web": {"websocket": False}}, server={"port": port})
    async with open_runtime(config) as runtime, TestServer(create_app(runtime), host="127.0.0.1", port=port) as server:
        page = await new_page(browser, str(server.make_url("/")))
        await open_widget(page)
        await wait_for_text(page, ".tl-bot", "Stride's shopping assistant")
        await say(page, "are you a bot?")
        await wait_for_text(page, ".tl-bot", "Yes, I'm a bot")
        # a second tab learns about it by polling
        second = await page.context.new_page()
        await second.goto(str(server.make_url("/")))
        await open_widget(second)
        await wait_for_text(second, ".tl-bot", "Yes, I'm a bot")
        await say(second, "thanks!")
        await wait_for_text(page, ".tl-bot", "You're welcome!")
        await page.context.close()


async def test_identify_reset_and_a_kept_rate_limited_message(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    from connectors.web.identity import sign_customer

    port = free_port()
    config = demo_config(
        tmp_path / "data",
        server={"port": port},
        connectors={"web": {"identity_secret": "s3", "rate_limit": {"messages": 3, "per_seconds": 6}}},
    )
    async with open_runtime(config) as runtime, TestServer(create_app(runtime), host="127.0.0.1", port=port) as server:
        page = await new_page(browser, str(server.make_url("/")))
        await open_widget(page)
        await wait_for_text(page, ".tl-bot", "Stride's shopping assistant")
        signature = sign_customer("s3", "cust-1")
        await page.evaluate(f"Threadline.identify('cust-1', '{signature}')")
        await say(page, "are you a bot?")
        await wait_for_text(page, ".tl-bot", "Yes, I'm a bot")
        await page.evaluate("Threadline.reset()")  # signing out
        await page.wait_for_function(
            "document.querySelector('#threadline-widget').shadowRoot.querySelectorAll('.tl-user').length === 0"
        )
        for text in ("hi", "thanks", "hello again", "one more"):  # the fourth is over the limit of 3 per 6 s
            await say(page, text)
        await wait_for_text(page, ".tl-status-error", "You're sending messages too fast")
        await wait_for_text(page, ".tl-user", "one more")
        await page.locator(".tl-pending", has_text="one more").wait_for(state="detached", timeout=15_000)
        assert await page.locator(".tl-failed").count() == 0  # kept and sent after the wait, not dropped
        from bots.types import Identity

        customer_thread = await runtime.store.find(Identity("customer", "cust-1"))
        said = [e.event.data["text"] for e in await runtime.store.events(customer_thread) if e.event.kind == "user"]
        assert said == ["are you a bot?"]
        assert page.errors == []  # type: ignore[attr-defined]
        await page.context.close()


async def test_embedding_options_on_another_site(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    holder: dict[str, str] = {}

    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=holder["html"], content_type="text/html")

    shop_app = web.Application()
    shop_app.router.add_get("/", handler)
    async with TestServer(shop_app, host="127.0.0.1") as shop:  # the business's own site
        shop_origin = str(shop.make_url("")).rstrip("/")
        config = demo_config(
            tmp_path / "data", server={"port": port}, connectors={"web": {"allowed_origins": [shop_origin]}}
        )
        async with (
            open_runtime(config) as runtime,
            TestServer(create_app(runtime), host="127.0.0.1", port=port) as server,
        ):
            bot = str(server.make_url("")).rstrip("/")
            page_html = (
                f"<!doctype html><title>Shop</title><h1>Our shop</h1>"
                f'<script src="{bot}/widget.js" data-bot-url="{bot}" data-color="#0a7d33" '
                f'data-title="Boutique" data-position="left" data-open="true" data-language="fr-FR" '
                f'data-greeting="Une question ?" async></script>'
            )
            holder["html"] = page_html
            page = await new_page(browser, str(shop.make_url("/")), viewport={"width": 1000, "height": 700})
            panel = page.locator(".tl-panel")
            await panel.wait_for(state="visible")  # data-open
            box = await panel.bounding_box()
            assert box is not None and box["x"] < 100  # data-position="left"
            assert await page.get_by_role("dialog", name="Boutique").is_visible()  # data-title
            await wait_for_text(page, ".tl-bot", "Bonjour")  # data-language as the hint
            assert await page.locator(".tl-intro").inner_text() == "Une question ?"  # data-greeting
            color = await page.locator(".tl-header").evaluate("e => getComputedStyle(e).backgroundColor")
            assert color == "rgb(10, 125, 51)"  # data-color
            assert page.errors == []  # type: ignore[attr-defined]
            await page.context.close()  # close the widget's connection before the servers stop
