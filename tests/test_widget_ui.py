"""The widget's own interface in real headless Chromium: its words in the visitor's language (or the bot's own),
staying at the newest message on a phone, the panel kept open across pages, the growing message box, what it
shows while offline, and calls from the page kept while it is still being built."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from bots.runtime import open_runtime
from bots.server.app import create_app
from tests import test_widget_browser as widget_browser
from tests.conftest import demo_config
from tests.servers import free_port
from tests.test_widget_browser import new_page, open_widget, say, wait_for_text

# Real headless Chromium and the demo server, started as the widget's other browser tests start them.
browser, port, runtime, server = (
    widget_browser.browser,
    widget_browser.port,
    widget_browser.runtime,
    widget_browser.server,
)

expect = pytest.importorskip("playwright.async_api").expect

PHONE = {"viewport": {"width": 360, "height": 640}, "is_mobile": True, "has_touch": True}
LOCALES = {  # placeholder, close button, the log's name, the offline notice, a queued message's status
    "de-DE": (
        "Schreib eine Nachricht…",
        "Chat schließen",
        "Unterhaltung",
        "Du bist offline. Nachrichten werden gesendet, sobald du wieder online bist.",
        "Wird gesendet…",
    ),
    "zh-CN": ("输入消息…", "关闭聊天", "对话", "你已离线。恢复网络后消息会自动发送。", "发送中…"),
    "vi-VN": (
        "Nhập tin nhắn…",
        "Đóng trò chuyện",
        "Cuộc trò chuyện",
        "Bạn đang ngoại tuyến. Tin nhắn sẽ được gửi khi có mạng trở lại.",
        "Đang gửi…",
    ),
}


@asynccontextmanager
async def serving(tmp_path: Path, server: dict[str, Any] | None = None, **overrides: Any) -> AsyncIterator[TestServer]:
    port = free_port()
    config = demo_config(tmp_path / "data", server={"port": port, **(server or {})}, **overrides)
    async with open_runtime(config) as runtime, TestServer(create_app(runtime), host="127.0.0.1", port=port) as server:
        yield server


@pytest.mark.parametrize("locale", list(LOCALES))
async def test_the_widget_speaks_the_browsers_language_also_offline(server: TestServer, browser, locale: str) -> None:  # type: ignore[no-untyped-def]
    placeholder, close, conversation, offline, sending = LOCALES[locale]
    page = await new_page(browser, str(server.make_url("/")), locale=locale)
    await open_widget(page)
    assert await page.locator(".tl-input").get_attribute("placeholder") == placeholder
    assert await page.locator(".tl-close").get_attribute("aria-label") == close
    assert await page.get_by_role("log", name=conversation).is_visible()
    await page.locator(".tl-bot").first.wait_for()  # the welcome, in the thread's language

    await page.context.set_offline(True)
    await wait_for_text(page, ".tl-status-offline", offline)
    await say(page, "42")
    pending = page.locator(".tl-pending", has_text="42")
    await pending.wait_for()
    state = pending.locator(".tl-state")
    assert await state.inner_text() == sending
    stamp = pending.locator(".tl-time")
    assert sending not in await stamp.inner_text()  # its own status, not run into the time
    time_box, state_box = await stamp.bounding_box(), await state.bounding_box()
    assert time_box is not None and state_box is not None and state_box["x"] >= time_box["x"] + time_box["width"] + 4
    assert await page.locator(".tl-typing").is_hidden()  # no reply can come while offline: no typing dots
    await page.context.set_offline(False)
    await pending.wait_for(state="detached", timeout=15_000)  # sent once back online
    assert page.errors == []  # type: ignore[attr-defined]
    await page.context.close()


async def test_the_bots_own_words_win_and_the_threads_language_comes_first(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    texts = {"de": {"placeholder": "Frag Stride etwas…"}, "en": {"placeholder": "Ask Stride anything…"}}
    async with serving(tmp_path, connectors={"web": {"widget_texts": texts}}) as server:
        page = await new_page(browser, str(server.make_url("/")), locale="en-US")
        await open_widget(page)
        assert await page.locator(".tl-input").get_attribute("placeholder") == "Ask Stride anything…"
        assert await page.locator(".tl-close").get_attribute("aria-label") == "Close chat"
        await say(page, "Hallo, welche Größe soll ich bei den Laufschuhen nehmen?")
        await wait_for_text(page, ".tl-bot", "Größe")  # the thread is in German now
        await page.goto(str(server.make_url("/products/TR2")))  # the next page speaks the thread's language
        await expect(page.locator(".tl-input")).to_have_attribute("placeholder", "Frag Stride etwas…")
        assert await page.locator(".tl-close").get_attribute("aria-label") == "Chat schließen"  # the catalogue's
        assert page.errors == []  # type: ignore[attr-defined]
        await page.context.close()


async def test_a_phone_stays_at_the_newest_message_as_images_load_unless_reading_above(
    server: TestServer,
    browser,  # type: ignore[no-untyped-def]
) -> None:
    page = await new_page(browser, str(server.make_url("/products/CG1")), **PHONE)
    await open_widget(page)
    await say(page, "hi")
    await wait_for_text(page, ".tl-bot", "How can I help you today?")
    other = await page.context.new_page()  # the same shoe viewed again: a GIF with two buttons under it
    await other.goto(str(server.make_url("/products/CG1")))
    gif = page.locator(".tl-bot img.tl-media").last
    await gif.wait_for()
    await page.wait_for_function("img => img.complete && img.naturalHeight > 0", arg=await gif.element_handle())
    last_button = page.locator(".tl-bot .tl-button").last
    await expect(last_button).to_be_in_viewport(ratio=1)  # not pushed below the fold by the GIF's height

    # reading further up: a message arriving (here from another tab) does not pull the view down
    log = page.locator(".tl-log")
    await log.evaluate(  # done once the widget has seen the scroll (its listener comes before this one)
        "log => new Promise(done => { log.addEventListener('scroll', done, {once: true}); log.scrollTop = 0; })"
    )
    await open_widget(other)
    await say(other, "are you a bot?")
    await wait_for_text(page, ".tl-bot", "Yes, I'm a bot")
    assert await log.evaluate("log => log.scrollTop") == 0

    # the next page restores the history at its newest message
    await page.goto(str(server.make_url("/products/MP3")))
    newest = page.locator(".tl-bot .tl-text", has_text="Yes, I'm a bot").last
    await expect(newest).to_be_in_viewport(ratio=1)
    await page.context.close()


async def test_the_panel_stays_open_or_closed_across_the_pages_of_a_visit(server: TestServer, browser) -> None:  # type: ignore[no-untyped-def]
    page = await new_page(browser, str(server.make_url("/")))
    await open_widget(page)
    await wait_for_text(page, ".tl-bot", "Stride's shopping assistant")
    await page.goto(str(server.make_url("/products/MP3")))
    await page.locator(".tl-panel").wait_for(state="visible")  # no click: still open
    assert await page.locator(".tl-launcher").get_attribute("aria-expanded") == "true"
    await say(page, "are you a bot?")  # answered after anything the reopened panel might have started
    await wait_for_text(page, ".tl-bot", "Yes, I'm a bot")
    assert await page.locator(".tl-bot", has_text="Stride's shopping assistant").count() == 1  # not welcomed again
    await page.locator(".tl-close").click()
    await page.goto(str(server.make_url("/products/TR2")))
    await page.locator(".tl-launcher").wait_for()
    assert await page.locator(".tl-panel").is_hidden()
    assert await page.locator(".tl-launcher").get_attribute("aria-expanded") == "false"
    await page.context.close()


async def test_the_message_box_grows_with_long_text(server: TestServer, browser) -> None:  # type: ignore[no-untyped-def]
    page = await new_page(browser, str(server.make_url("/")))
    await open_widget(page)
    box = page.locator(".tl-input")

    async def height() -> float:
        return float(await box.evaluate("e => e.getBoundingClientRect().height"))

    one_line = await height()
    await box.fill("one\ntwo\nthree")
    three_lines = await height()
    assert three_lines > one_line + 30
    await box.fill("a long message " * 200)
    capped = await height()
    assert capped > three_lines and capped == await box.evaluate("e => parseFloat(getComputedStyle(e).maxHeight)")
    assert await box.evaluate("e => e.scrollHeight > e.clientHeight")  # at its maximum it scrolls inside

    await box.fill("")
    await box.type("first line")
    await page.keyboard.press("Shift+Enter")  # a new line, not sent
    await box.type("second line")
    assert await box.input_value() == "first line\nsecond line"
    assert await page.locator(".tl-user").count() == 0
    await page.keyboard.press("Enter")  # sends
    await wait_for_text(page, ".tl-user", "second line")
    assert await box.input_value() == ""
    assert await height() == one_line  # back to one line
    await page.context.close()


async def test_calls_before_the_widget_is_built_are_kept(server: TestServer, browser, runtime) -> None:  # type: ignore[no-untyped-def]
    # The widget is built once its texts have loaded; the page's own script may call it before that.
    held: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def hold(route) -> None:  # type: ignore[no-untyped-def]
        await held
        await route.continue_()

    context = await browser.new_context()
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.route("**/widget-texts.json", hold)
    await page.goto(str(server.make_url("/")))
    assert await page.locator(".tl-launcher").count() == 0  # not built yet
    await page.evaluate("Threadline.track('brochure_viewed', {page: 2})")
    held.set_result(None)
    await open_widget(page)
    await say(page, "are you a bot?")  # sent after the event, so answered after it was recorded
    await wait_for_text(page, ".tl-bot", "Yes, I'm a bot")
    [thread] = await runtime.store.thread_ids()
    assert any("brochure_viewed" in json.dumps(e.event.data) for e in await runtime.store.events(thread))
    assert errors == []
    await context.close()


async def test_without_its_texts_a_first_visit_speaks_the_bots_default_language(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    # /widget-texts.json cannot be loaded and nothing was kept: the words built into widget.js, the bot's own first
    texts = {"en": {"placeholder": "Ask Stride anything…"}}
    async with serving(tmp_path, connectors={"web": {"widget_texts": texts}}) as server:
        context = await browser.new_context(locale="de-DE")  # German is not built in: the default language is
        page = await context.new_page()
        refused: list[str] = []

        async def refuse(route) -> None:  # type: ignore[no-untyped-def]
            refused.append(route.request.url)
            await route.abort()

        await page.route("**/widget-texts.json", refuse)
        await page.goto(str(server.make_url("/")))
        await open_widget(page)
        assert refused, "the widget did not ask for its texts"
        assert await page.locator(".tl-input").get_attribute("placeholder") == "Ask Stride anything…"
        assert await page.locator(".tl-close").get_attribute("aria-label") == "Close chat"
        assert await page.locator(".tl-send").get_attribute("aria-label") == "Send"
        assert await page.locator(".tl-launcher").get_attribute("aria-label") == "Open chat: Stride"
        assert await page.get_by_role("log", name="Conversation").is_visible()
        await page.locator(".tl-bot").first.wait_for()  # the thread is German now; the built-in words stay
        assert await page.locator(".tl-close").get_attribute("aria-label") == "Close chat"
        await context.close()


async def test_refusals_are_told_in_the_widgets_own_words(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    web = {"web": {"identity_secret": "s3"}}
    async with serving(tmp_path, server={"max_message_chars": 20}, connectors=web) as server:
        page = await new_page(browser, str(server.make_url("/")), locale="de-DE")
        await open_widget(page)
        await say(page, "Welche Größe soll ich bei den Laufschuhen nehmen?")  # over the server's 20 characters
        await wait_for_text(page, ".tl-status-error", "Deine Nachricht ist zu lang: höchstens 20 Zeichen.")
        await expect(page.locator(".tl-failed .tl-state")).to_have_text("Nicht gesendet")
        await page.evaluate("Threadline.identify('cust-1', 'not-the-signature')")
        await wait_for_text(page, ".tl-status-error", "Dieser Chat konnte nicht bestätigen, wer du bist.")
        assert page.errors == []  # type: ignore[attr-defined]
        await page.context.close()
