"""Slow-loris (issue: no timeout for incomplete requests): a request whose head or body never finishes is closed
after server.idle_timeout_seconds / server.body_timeout_seconds, while answers and open WebSockets go on."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bots.runtime import open_runtime
from bots.server.app import create_app
from bots.server.timeouts import runner_options
from tests.conftest import demo_config

CEILING_SECONDS = 60.0  # only a connection the server never closes takes this long, and then the test fails
HALF_REQUESTS = {
    "half a request line": b"GET /hea",
    "headers that never end": b"GET /health HTTP/1.1\r\nHost: shop\r\nX-Slow: 1\r\n",
    "a body that never ends": (
        b"POST /web/api/hello HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\n"
        b'Content-Length: 200\r\n\r\n{"visitor_id": "visitor00000000slow'
    ),
    "a chunked body that never ends": (
        b'POST /webhooks/rest/webhook HTTP/1.1\r\nHost: shop\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"sen\r\n'
    ),
}


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient]:
    config = demo_config(tmp_path / "data", server={"idle_timeout_seconds": 1, "body_timeout_seconds": 1})
    async with open_runtime(config) as runtime:
        server = TestServer(create_app(runtime))
        await server.start_server(**runner_options(config.server))  # as bots.server.app.serve starts it
        async with TestClient(server) as client:
            yield client


async def half_request(client: TestClient, raw: bytes) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Kept open from this side (a dropped writer would close the socket)."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(raw)
    await writer.drain()
    return reader, writer


async def test_incomplete_requests_are_closed_and_the_rest_goes_on(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    tab = await client.ws_connect("/web/ws", headers={"Origin": str(client.make_url("")).rstrip("/")})
    await tab.send_json({"type": "hello", "visitor_id": "visitor0000000000slow"})
    assert (await tab.receive_json(timeout=CEILING_SECONDS))["type"] == "ready"

    connections = {name: await half_request(client, raw) for name, raw in HALF_REQUESTS.items()}
    for name, (reader, writer) in connections.items():  # each ends in EOF, with no answer: the server closed it
        assert await asyncio.wait_for(reader.read(), CEILING_SECONDS) == b"", name
        writer.close()

    # the tab opened before them is older than the timeouts and still answers
    await tab.send_json({"type": "message", "id": "m1", "text": "hi"})
    while (frame := await tab.receive_json(timeout=CEILING_SECONDS))["type"] != "ack":
        pass
    assert frame == {"type": "ack", "id": "m1", "duplicate": False}
    await tab.close()
    health = await client.get("/health")  # and whole requests are answered as ever
    assert health.status == 200 and (await health.json())["status"] == "ok"
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert any("the body did not arrive within 1.0 s" in r.getMessage() for r in caplog.records)


async def test_a_body_sent_after_its_head_is_answered(client: TestClient) -> None:
    """The guard waits for a body that is not in the head's packet, and lets the answer through."""
    body = json.dumps({"visitor_id": "visitor0000000000paced"}).encode()
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(
        b"POST /web/api/hello HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
    )
    await writer.drain()
    writer.write(body)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), CEILING_SECONDS)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 200") and b'"type": "ready"' in answer
