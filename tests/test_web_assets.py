"""The widget's files: gzipped to clients that accept it, revalidated with an ETag, and as large as the
README says (kB of 1,000 bytes, one decimal)."""

from __future__ import annotations

import gzip
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bots.runtime import open_runtime
from bots.server.app import create_app
from tests.conftest import REPO, demo_config

STATIC = REPO / "connectors" / "web" / "static"


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient]:
    async with (
        open_runtime(demo_config(tmp_path / "data")) as runtime,
        TestClient(TestServer(create_app(runtime)), auto_decompress=False) as client,
    ):
        yield client


@pytest.mark.parametrize("name", ["widget.js", "widget.css"])
async def test_served_gzipped_with_an_etag_and_revalidated(client: TestClient, name: str) -> None:
    original = (STATIC / name).read_bytes()
    response = await client.get(f"/{name}", headers={"Accept-Encoding": "gzip, br"})
    assert response.status == 200 and response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(await response.read()) == original
    assert response.headers["Vary"] == "Accept-Encoding" and response.headers["Access-Control-Allow-Origin"] == "*"
    etag = response.headers["ETag"]
    again = await client.get(f"/{name}", headers={"If-None-Match": etag, "Accept-Encoding": "gzip"})
    assert again.status == 304 and await again.read() == b""
    plain = await client.get(f"/{name}", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers and await plain.read() == original


def test_the_readme_states_the_widgets_sizes() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    found = re.search(
        r"`widget\.js` is ([\d.]+) KB \(([\d.]+) KB gzipped\) and `widget\.css` ([\d.]+) KB "
        r"\(([\d.]+) KB gzipped\)",
        readme,
    )
    assert found, "the README's sentence on the widget's sizes is gone"
    actual = []
    for name in ("widget.js", "widget.css"):
        body = (STATIC / name).read_bytes()
        actual += [f"{len(body) / 1000:.1f}", f"{len(gzip.compress(body, compresslevel=9, mtime=0)) / 1000:.1f}"]
    assert list(found.groups()) == actual, f"README says {found.groups()}, the files are {actual}"
