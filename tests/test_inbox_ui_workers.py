"""Two agents in two browser contexts, each in the inbox's page of another server worker, over one real Redis:
both see the same queue, and when one takes a conversation the other sees it leave the queue, live."""

from __future__ import annotations

import aiohttp
import pytest

from tests import test_widget_browser as widget_browser
from tests.cluster import Cluster
from tests.inbox_browser import sign_in
from tests.test_inbox_workers import cluster

browser = widget_browser.browser  # real headless Chromium, started as the widget's browser tests start it
expect = pytest.importorskip("playwright.async_api").expect
pytestmark = widget_browser.pytestmark
__all__ = ["browser", "cluster"]  # fixtures: the two workers on Redis have the agents ana and bo (an admin)


async def test_two_agents_on_two_workers_see_one_queue_and_each_others_assignments_live(  # type: ignore[no-untyped-def]
    cluster: Cluster, browser
) -> None:
    ana = await sign_in(browser, f"{cluster.url(0)}/inbox", "ana")
    bo = await sign_in(browser, f"{cluster.url(1)}/inbox", "bo")
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{cluster.url(0)}/webhooks/rest/webhook", json={"sender": "gina", "message": "/human"}) as sent,
    ):
        assert sent.status == 200  # a customer on worker 0
    for agent in (ana, bo):
        await expect(agent.locator("#queue-badge")).to_have_text("1 waiting")
        await expect(agent.locator("#rows .row")).to_have_count(1)
        await expect(agent.locator("#rows .row .row-title")).to_have_text("rest · en")

    await ana.locator("#rows .row").first.click()
    await ana.locator("[data-action=take]").click()
    await expect(ana.locator(".thread-head .status")).to_have_text("held by ana")

    # bo, on the other worker, sees it without reloading: out of the queue, held by ana in all open
    await expect(bo.locator("#queue-badge")).to_be_hidden()
    await expect(bo.locator("#rows-empty")).to_be_visible()
    await bo.keyboard.press("3")
    await expect(bo.locator("#rows .row small")).to_have_text("held by ana")
    await bo.locator("#rows .row").first.click()
    await expect(bo.locator(".thread-head .status")).to_have_text("held by ana")

    # and the other way round: bo (an admin) passes it to himself; ana's open view follows
    await bo.locator("[data-action=take]").click()
    await expect(bo.locator(".thread-head .status")).to_have_text("held by bo")
    await expect(ana.locator(".thread-head .status")).to_have_text("held by bo")
    await ana.keyboard.press("2")  # mine: empty now
    await expect(ana.locator("#rows-empty")).to_be_visible()
    assert ana.errors == [] and bo.errors == []  # type: ignore[attr-defined]
