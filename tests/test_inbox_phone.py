"""The inbox on a phone (390 px wide) in real headless Chromium: nothing wider than the screen, in English and in
German (whose words are longer), on the list and in an open conversation."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import expect

from bots.runtime import Runtime
from tests import test_inbox_ui as inbox_ui
from tests import test_widget_browser as widget_browser
from tests.inbox_browser import sign_in

browser = widget_browser.browser
served = inbox_ui.served
pytestmark = widget_browser.pytestmark
PHONE = {"width": 390, "height": 844}
# Every element whose right edge is past the screen's, named, so that a failure says what overflows
OVERFLOW = """() => [...document.querySelectorAll('body *')]
    .filter(e => e.getClientRects().length && e.getBoundingClientRect().right > innerWidth + 0.5)
    .map(e => e.tagName + '.' + e.className)"""


@pytest.mark.parametrize("locale", ["en-US", "de-DE"])
async def test_a_phone_shows_list_and_thread_without_sideways_scrolling(
    served: tuple[TestServer, Runtime],
    browser,  # type: ignore[no-untyped-def]
    locale: str,
) -> None:
    server, _runtime = served
    async with aiohttp.ClientSession() as http:
        for text in ("hi", "/talk_to_human", "Meine Bestellung Nummer 4711 ist noch immer nicht angekommen"):
            body = {"sender": "a-rather-long-customer-identifier-1234", "message": text}
            async with http.post(server.make_url("/webhooks/rest/webhook"), json=body) as response:
                assert response.status == 200
    agent = await sign_in(browser, str(server.make_url("/inbox")), locale=locale, viewport=PHONE, has_touch=True)
    await agent.locator("#rows .row").first.wait_for()
    assert await agent.evaluate(OVERFLOW) == []
    assert await agent.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await agent.keyboard.press("j")
    send = agent.locator(".composer button[type=submit]")
    await expect(send).to_be_visible()
    assert await agent.evaluate(OVERFLOW) == []
    assert await agent.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await agent.keyboard.press("Escape")
    await expect(agent.locator("#rows")).to_be_visible()
    for width in (768, 1024):  # a tablet, upright and sideways: the two-column layout fits as well
        await agent.set_viewport_size({"width": width, "height": 1000})
        await expect(agent.locator(".app")).to_have_js_property("scrollWidth", width)
        assert await agent.evaluate("document.documentElement.scrollWidth") <= width
