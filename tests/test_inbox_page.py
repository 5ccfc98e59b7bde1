"""The inbox page as served: its files, its security headers, and a complete catalogue of its own words."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bots.inbox.page import STATIC
from bots.runtime import open_runtime
from bots.server.app import create_app
from connectors.web.texts import CATALOGUE as WIDGET_TEXTS
from tests.conftest import demo_config

TEXTS = json.loads((STATIC / "texts.json").read_text(encoding="utf-8"))


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[TestServer]:
    async with open_runtime(demo_config(tmp_path / "data")) as runtime, TestServer(create_app(runtime)) as server:
        yield server


def test_every_language_of_the_widget_has_every_word_with_the_same_placeholders() -> None:
    assert set(TEXTS) == set(WIDGET_TEXTS)
    for language, texts in TEXTS.items():
        assert set(texts) == set(TEXTS["en"]), language
        for key, text in texts.items():
            assert text.strip(), (language, key)
            assert set(re.findall(r"\{(\w+)\}", text)) == set(re.findall(r"\{(\w+)\}", TEXTS["en"][key])), (
                language,
                key,
            )


def test_every_word_the_page_uses_is_in_the_catalogue() -> None:
    used: set[str] = set()
    for path in STATIC.glob("*.js"):
        used |= set(re.findall(r"\bt\(\"(\w+)\"", path.read_text(encoding="utf-8")))
    used |= set(re.findall(r'data-t(?:-placeholder|-label)?="(\w+)"', (STATIC / "index.html").read_text()))
    assert used and used <= set(TEXTS["en"]), used - set(TEXTS["en"])


async def test_the_page_and_its_files_are_served_with_a_strict_policy(server: TestServer) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(server.make_url("/inbox")) as response:
            assert response.status == 200
            policy = response.headers["Content-Security-Policy"]
            assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
            page = await response.text()
        for name in re.findall(r'(?:src|href)="/inbox/static/([\w.]+)"', page) + ["texts.json", "thread.js"]:
            async with http.get(server.make_url(f"/inbox/static/{name}")) as response:
                assert response.status == 200, name
        for missing in ("/inbox/static/nothing.js", "/inbox/static/../page.py", "/inbox/static/"):
            async with http.get(server.make_url(missing)) as response:
                assert response.status in (403, 404), missing
