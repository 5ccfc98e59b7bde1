"""The widget's files: gzipped to clients that accept it, revalidated with an ETag, and as large as the
README says (kB of 1,000 bytes, one decimal); widget.js as served, with the bot's default words built in."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bots.runtime import open_runtime
from bots.server.app import create_app
from connectors.web.script import PARTS
from connectors.web.texts import CATALOGUE
from tests.conftest import REPO, demo_config

STATIC = REPO / "connectors" / "web" / "static"


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient]:
    async with (
        open_runtime(demo_config(tmp_path / "data")) as runtime,
        TestClient(TestServer(create_app(runtime)), auto_decompress=False) as client,
    ):
        yield client


async def served(client: TestClient, name: str) -> bytes:
    plain = await client.get(f"/{name}", headers={"Accept-Encoding": "identity"})
    assert plain.status == 200 and "Content-Encoding" not in plain.headers
    return await plain.read()


async def test_widget_js_is_its_source_with_the_bots_default_words_built_in(client: TestClient) -> None:
    # one file for sites, joined in a fixed order from the source files
    source = "".join((STATIC / "widget" / name).read_text(encoding="utf-8") for name in PARTS)
    head, tail = source.split("__THREADLINE_BUILT_IN__")
    script = (await served(client, "widget.js")).decode()
    assert script.startswith(head) and script.endswith(tail)
    built_in = json.JSONDecoder().raw_decode(script[len(head) :])[0]
    assert built_in == {"default": "en", "texts": {"en": CATALOGUE["en"]}, "max_chars": 4000}


@pytest.mark.parametrize("name", ["widget.js", "widget.css"])
async def test_served_gzipped_with_an_etag_and_revalidated(client: TestClient, name: str) -> None:
    original = await served(client, name)
    response = await client.get(f"/{name}", headers={"Accept-Encoding": "gzip, br"})
    assert response.status == 200 and response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(await response.read()) == original
    assert response.headers["Vary"] == "Accept-Encoding" and response.headers["Access-Control-Allow-Origin"] == "*"
    etag = response.headers["ETag"]
    again = await client.get(f"/{name}", headers={"If-None-Match": etag, "Accept-Encoding": "gzip"})
    assert again.status == 304 and await again.read() == b""
    if name == "widget.css":
        assert original == (STATIC / name).read_bytes()


async def test_the_readme_states_the_widgets_sizes(client: TestClient) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    found = re.search(
        r"`widget\.js` is ([\d.]+) KB \(([\d.]+) KB gzipped\) and `widget\.css` ([\d.]+) KB "
        r"\(([\d.]+) KB gzipped\)",
        readme,
    )
    assert found, "the README's sentence on the widget's sizes is gone"
    actual = []
    for name in ("widget.js", "widget.css"):
        body = await served(client, name)  # widget.js with the demo bot's English words built in
        actual += [f"{len(body) / 1000:.1f}", f"{len(gzip.compress(body, compresslevel=9, mtime=0)) / 1000:.1f}"]
    assert list(found.groups()) == actual, f"README says {found.groups()}, the files are {actual}"
