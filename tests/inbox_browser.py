"""An agent in the inbox's page in real headless Chromium, shared by the inbox's browser tests."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.test_widget_browser import new_page

PASSWORD = "correct horse battery"


async def sign_in(browser, inbox_url: str, name: str = "ana", **options: Any):  # type: ignore[no-untyped-def]
    """A new browser context signed in as ``name``; returns once its live socket is open (the agent is online)."""
    page = await new_page(browser, inbox_url, **options)
    await page.locator("#login-name").fill(name)
    await page.locator("#login-password").fill(PASSWORD)
    await page.keyboard.press("Enter")
    await page.locator("#presence.online").wait_for()
    return page


async def until(check: Any) -> None:
    """Wait for a condition of the server (a ceiling of 20 s, never a fixed pause)."""
    async with asyncio.timeout(20):
        while not await check():
            await asyncio.sleep(0.05)
