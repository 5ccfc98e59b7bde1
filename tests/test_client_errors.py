"""A client's malformed request or early departure is one line in the log, never an ERROR with a traceback."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from bots.runtime import open_runtime
from bots.server.app import create_app
from tests.conftest import demo_config
from tests.observe import observe_body_reads

CEILING_SECONDS = 60.0  # bounds on waiting for the server, never waits: each returns as soon as it happened


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[TestServer]:
    async with open_runtime(demo_config(tmp_path / "data")) as runtime:
        server = TestServer(create_app(runtime))
        await server.start_server()
        yield server
        await server.close()


async def send_raw(server: TestServer, raw: bytes, seen: Callable[[asyncio.StreamReader], Awaitable[bytes]]) -> bytes:
    """Send ``raw`` and leave once ``seen`` returns (the server has the request), then wait until the server
    drops the connection: only then has it logged all it will about it. Returns what ``seen`` returned."""
    reader, writer = await asyncio.open_connection(server.host, server.port)
    writer.write(raw)
    await writer.drain()
    answer = await asyncio.wait_for(seen(reader), CEILING_SECONDS)
    writer.close()
    await writer.wait_closed()
    deadline = time.monotonic() + CEILING_SECONDS
    while server.runner.server.connections:  # type: ignore[union-attr]
        assert time.monotonic() < deadline, f"the server kept the connection for {CEILING_SECONDS:g} s"
        await asyncio.sleep(0.01)  # it notices the closed socket on a later turn of its loop
    return answer


async def test_an_over_long_request_line_is_a_400_and_one_warning(
    server: TestServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    raw = b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    status = await send_raw(server, raw, lambda reader: reader.readline())
    assert status.startswith(b"HTTP/1.0 400") or status.startswith(b"HTTP/1.1 400"), status
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info], caplog.text
    assert any("refused a malformed request (LineTooLong" in r.getMessage() for r in caplog.records)


async def test_a_client_leaving_mid_body_logs_no_error(
    server: TestServer, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO)
    reads = observe_body_reads(monkeypatch)

    async def handler_reads(_reader: asyncio.StreamReader) -> bytes:
        await reads.begun.wait()  # the handler waits for the rest of the body when the client leaves
        return b""

    await send_raw(
        server,
        b"POST /webhooks/rest/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b'Content-Length: 1000\r\n\r\n{"sender": "half',
        handler_reads,
    )
    await asyncio.wait_for(reads.ended.wait(), CEILING_SECONDS)  # the handler has given up on the body
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info], caplog.text
