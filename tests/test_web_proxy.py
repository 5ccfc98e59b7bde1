"""Behind a reverse proxy each visitor keeps their own per-address allowance: the proxy's X-Forwarded-For is
believed from a configured proxy only, so a client elsewhere cannot pick its address with the header."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bots.runtime import open_runtime
from bots.server.app import create_app
from tests.conftest import demo_config

ALLOWANCE = 10  # per address: ten times the per-visitor rate limit of 1 message


async def client_for(tmp_path: Path, proxies: list[str]) -> AsyncIterator[TestClient]:
    config = demo_config(
        tmp_path / "data",
        connectors={"web": {"rate_limit": {"messages": 1, "per_seconds": 3600}, "trusted_proxies": proxies}},
    )
    async with open_runtime(config) as runtime, TestClient(TestServer(create_app(runtime))) as client:
        yield client


async def hello(client: TestClient, n: int, forwarded_for: str) -> int:
    response = await client.post(
        "/web/api/hello", json={"visitor_id": f"visitor0000000000px{n:04d}"}, headers={"X-Forwarded-For": forwarded_for}
    )
    return response.status


@pytest.mark.parametrize("trusted", [True, False], ids=["behind a trusted proxy", "header from anyone"])
async def test_the_per_address_allowance_follows_the_forwarded_address_from_trusted_proxies_only(
    tmp_path: Path, trusted: bool
) -> None:
    async for client in client_for(tmp_path, ["127.0.0.1/32", "::1/128"] if trusted else []):
        # a client spoofing a leftmost hop does not escape: the nearest untrusted hop (the one nginx added) counts
        statuses = [await hello(client, n, "198.51.100.7, 203.0.113.1") for n in range(ALLOWANCE + 1)]
        assert statuses == [200] * ALLOWANCE + [429]
        other_visitor = await hello(client, 999, "203.0.113.2")
        # behind the proxy, another visitor has an allowance of their own; without trust, all share the proxy's
        assert other_visitor == (200 if trusted else 429)
