"""The page at / presents the configured bot (name, colour, greeting, avatar); only the demo bot shows its shop.

Through the real server over HTTP, and in real headless Chromium (Debian's, driven by Playwright).
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bots.config import Config
from bots.flow.loader import LoadResult
from bots.runtime import open_runtime
from bots.server.app import create_app
from tests.conftest import demo_config, write_bot
from tests.servers import free_port

if TYPE_CHECKING:
    from playwright.async_api import Page

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
AVATAR = '<svg xmlns="http://www.w3.org/2000/svg" width="48" height="48"><circle r="20" cx="24" cy="24"/></svg>'
HOTEL = {
    "bot.yml": """
        settings:
          name: Hotel Aurora
          fallback_flow: fallback
          widget:
            colour: "#0b7285"
            title: Aurora front desk
            greeting: widget_greeting
            avatar: aurora.svg
        flows:
          welcome:
            trigger: {events: [conversation_start]}
            steps:
              - say: welcome
          fallback:
            steps:
              - say: fallback
    """,
    "texts/en.yml": """
        language: en
        responses:
          widget_greeting: "Planning a stay? Ask the front desk 🛎️"
          welcome: "Welcome to Hotel Aurora! I can tell you about rooms, breakfast and check-in times."
          fallback: "Sorry, I did not get that."
    """,
    "texts/de.yml": """
        language: de
        responses:
          widget_greeting: "Sie planen einen Aufenthalt? Fragen Sie die Rezeption 🛎️"
          welcome: "Willkommen im Hotel Aurora! Ich erzähle Ihnen gern von Zimmern, Frühstück und Check-in."
          fallback: "Entschuldigung, das habe ich nicht verstanden."
    """,
    "nlu/en.yml": """
        language: en
        nlu:
          rooms: [which rooms do you have, room types, do you have a double room, suites, family rooms]
    """,
    "nlu/de.yml": """
        language: de
        nlu:
          rooms: [welche zimmer gibt es, zimmertypen, habt ihr ein doppelzimmer, suiten, familienzimmer]
    """,
    "media/aurora.svg": AVATAR,
}
SHOP_WORDS = ("Stride", "STRIDE", "shoe", "Shoe", "sizes", "/media/trail-runner-2.png", "/products/")


def hotel_config(tmp_path: Path, **overrides: object) -> Config:
    bot = write_bot(tmp_path / "hotel", HOTEL)
    return Config.model_validate(
        {"bot": bot, "data_dir": tmp_path / "data", "languages": ["en", "de"], "default_language": "en", **overrides}
    )


@pytest.fixture
async def hotel(tmp_path: Path) -> AsyncIterator[TestClient]:
    async with open_runtime(hotel_config(tmp_path)) as runtime, TestClient(TestServer(create_app(runtime))) as client:
        yield client


async def test_the_page_presents_the_configured_bot_and_nothing_of_the_shop(hotel: TestClient) -> None:
    response = await hotel.get("/", headers={"Accept-Language": "fr-FR, de;q=0.8, en;q=0.5"})
    assert response.status == 200 and response.content_type == "text/html"
    page = await response.text()
    assert "<title>Hotel Aurora</title>" in page and "Try Hotel Aurora" in page
    assert 'data-color="#0b7285"' in page and 'data-title="Aurora front desk"' in page
    assert 'data-language="de"' in page  # French is not one of the bot's languages: German comes next
    assert 'data-greeting="Sie planen einen Aufenthalt? Fragen Sie die Rezeption 🛎️"' in page
    assert 'data-open="true"' in page and 'src="/media/aurora.svg"' in page
    assert not [word for word in SHOP_WORDS if word in page]
    english = await (await hotel.get("/")).text()  # no Accept-Language: the bot's default language
    assert 'data-greeting="Planning a stay? Ask the front desk 🛎️"' in english and 'data-language="en"' in english
    odd_headers = {"*": "en", ";;,": "en", "de;q=0, en;q=0.1": "en", "de;q=1.2.3, de-AT;q=abc, en": "en"}
    for odd, language in odd_headers.items():  # never a 500: a malformed weight leaves its language out
        odd_page = await hotel.get("/", headers={"Accept-Language": odd})
        assert odd_page.status == 200 and f'data-language="{language}"' in await odd_page.text(), odd
    avatar = await hotel.get("/media/aurora.svg")
    assert avatar.status == 200 and avatar.content_type == "image/svg+xml"
    for shop_page in ("/products/TR2", "/cart", "/shipping", "/returns/ST-123456", "/media/trail-runner-2.png"):
        assert (await hotel.get(shop_page)).status == 404, shop_page


async def test_the_demo_bot_still_shows_its_shop_with_its_own_greeting(tmp_path: Path) -> None:
    async with (
        open_runtime(demo_config(tmp_path / "data")) as runtime,
        TestClient(TestServer(create_app(runtime))) as client,
    ):
        page = await (await client.get("/", headers={"Accept-Language": "de-DE,de;q=0.9"})).text()
        assert "Trail Runner 2 · Stride running shoes" in page and 'src="/media/trail-runner-2.png"' in page
        assert 'data-color="#e8590c"' in page and 'data-title="Stride"' in page
        assert 'data-greeting="Fragen zur Größe oder zu deiner Bestellung? Wir sind da 👋"' in page
        assert "Threadline.track('product_viewed', {" in page
        assert (await client.get("/media/trail-runner-2.png")).status == 200


async def test_no_page_at_all_when_the_demo_page_is_off(tmp_path: Path) -> None:
    config = hotel_config(tmp_path, connectors={"web": {"demo_page": False}})
    async with open_runtime(config) as runtime, TestClient(TestServer(create_app(runtime))) as client:
        assert (await client.get("/")).status == 404
        assert (await client.get("/widget.js")).status == 200


@pytest.mark.parametrize(
    ("widget", "line", "code", "words"),
    [
        ('colour: "red"', 4, "BOT-E010", "'red' is not a colour like #e8590c"),
        ("title: ''", 4, "BOT-E010", "the title must not be empty"),
        ("avatar: missing.png", 4, "BOT-E013", "'missing.png' is not an image file in the bot's media/ folder"),
        ("avatar: ../bot.yml", 4, "BOT-E013", "is not an image file"),
        ("greeting: no_such_text", 4, "FLOW-E001", "no_such_text"),
        ("shape: round", 4, "BOT-E010", "shape"),
    ],
)
def test_widget_settings_are_checked_with_file_and_line(
    make_bot: Callable[..., LoadResult], widget: str, line: int, code: str, words: str
) -> None:
    result = make_bot({"settings.yml": f"settings:\n  fallback_flow: fallback\n  widget:\n    {widget}\n"})
    assert result.bot is None
    [problem] = result.errors
    assert (problem.mark.file.endswith("settings.yml"), problem.mark.line, problem.code) == (True, line, code)
    assert words in problem.message


@asynccontextmanager
async def browser_page(config: Config, port: int) -> AsyncIterator[tuple[Page, TestServer, list[str]]]:
    """The real server and a page in headless Chromium with a German browser, and the page's script errors."""
    from tests.test_widget_browser import ARGS, playwright_api

    async with (
        open_runtime(config) as runtime,
        TestServer(create_app(runtime), host="127.0.0.1", port=port) as server,
        playwright_api.async_playwright() as playwright,
    ):
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = await (await browser.new_context(locale="de-DE")).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        try:
            yield page, server, errors
        finally:
            await browser.close()


async def loaded_images(page: Page) -> list[list[object]]:
    """Every image of the page as [src, shown]: a broken image has no natural width."""
    await page.wait_for_function("[...document.images].every(i => i.complete)")
    return await page.locator("img").evaluate_all("all => all.map(i => [i.getAttribute('src'), i.naturalWidth > 0])")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make test installs it)")
async def test_in_a_browser_the_hotel_looks_like_the_hotel(tmp_path: Path) -> None:
    from tests.test_widget_browser import wait_for_text

    port = free_port()
    async with browser_page(hotel_config(tmp_path, server={"port": port}), port) as (page, server, errors):
        await page.goto(str(server.make_url("/")))
        assert await page.title() == "Hotel Aurora"
        await page.locator(".tl-panel").wait_for(state="visible")  # the chat window opens by itself
        await wait_for_text(page, ".tl-bot", "Willkommen im Hotel Aurora!")  # the bot's first words, in German
        assert await page.locator(".tl-intro").inner_text() == "Sie planen einen Aufenthalt? Fragen Sie die Rezeption 🛎️"
        assert await page.locator(".tl-title").inner_text() == "Aurora front desk"
        header = page.locator(".tl-header")
        assert await header.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(11, 114, 133)"
        assert await loaded_images(page) == [["/media/aurora.svg", True]]
        text = await page.locator("body").inner_text()
        assert "Try Hotel Aurora" in text and not [word for word in SHOP_WORDS if word in text]
        assert errors == []


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make test installs it)")
async def test_in_a_browser_the_demo_bot_shows_its_shop(tmp_path: Path) -> None:
    port = free_port()
    async with browser_page(demo_config(tmp_path / "data", server={"port": port}), port) as (page, server, errors):
        await page.goto(str(server.make_url("/")))
        assert await page.title() == "Trail Runner 2 · Stride running shoes (Threadline demo)"
        await page.locator(".tl-teaser", has_text="Fragen zur Größe oder zu deiner Bestellung?").wait_for()
        assert await loaded_images(page) == [["/media/trail-runner-2.png", True]]
        launcher = page.locator(".tl-launcher")
        assert await launcher.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(232, 89, 12)"
        assert errors == []
