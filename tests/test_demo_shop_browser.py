"""The demo shop in real headless Chromium: a page reload is not a second look at a shoe (issue 16, item 7)."""

# ruff: noqa: F811 - the widget tests' fixtures (browser, runtime, server) are imported, then named as arguments

from __future__ import annotations

from aiohttp.test_utils import TestServer

from bots.runtime import Runtime
from tests.test_web_closes import until
from tests.test_widget_browser import (  # noqa: F401 (browser, port, runtime and server are fixtures used here)
    browser,
    new_page,
    open_widget,
    port,
    pytestmark,
    runtime,
    server,
    wait_for_text,
)


async def site_events(runtime: Runtime, name: str) -> int:
    """How many site events of this name the store holds, over all threads."""
    count = 0
    for thread in await runtime.store.thread_ids():
        for stored in await runtime.store.events(thread):
            if stored.event.kind == "site_event" and stored.event.data.get("name") == name:
                count += 1
    return count


async def site_events_are(runtime: Runtime, name: str, n: int) -> bool:
    return await site_events(runtime, name) == n


async def test_a_reload_is_not_a_second_look_but_coming_back_is(  # type: ignore[no-untyped-def]
    server: TestServer, browser, runtime: Runtime
) -> None:
    url = str(server.make_url("/products/TR2"))
    page = await new_page(browser, url)
    await until(lambda: site_events_are(runtime, "product_viewed", 1), "one product view")
    await page.reload()
    await page.locator(".buy").click()  # recorded after anything the reloaded page recorded on load
    await until(lambda: site_events_are(runtime, "added_to_cart", 1), "the cart event")
    assert await site_events(runtime, "product_viewed") == 1  # the reload was not counted
    await page.goto(url)  # coming back to the shoe is a second look: help is offered
    await open_widget(page)
    await wait_for_text(page, ".tl-bot", "Still thinking about the Trail Runner 2?")
    assert await site_events(runtime, "product_viewed") == 2
    assert page.errors == []
