"""A client's malformed request or early departure is one line in the log, never an ERROR with a traceback."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from bots.runtime import open_runtime
from bots.server.app import create_app
from tests.conftest import demo_config


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[TestServer]:
    async with open_runtime(demo_config(tmp_path / "data")) as runtime:
        server = TestServer(create_app(runtime))
        await server.start_server()
        yield server
        await server.close()


async def send_raw(server: TestServer, raw: bytes, *, read: bool) -> bytes:
    reader, writer = await asyncio.open_connection(server.host, server.port)
    writer.write(raw)
    await writer.drain()
    status = await reader.readline() if read else b""
    writer.close()
    await writer.wait_closed()
    return status


async def connections_closed(server: TestServer) -> None:
    for _ in range(1000):  # the server notices the closed socket on its next turn of the loop
        if not server.runner.server.connections:  # type: ignore[union-attr]
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the server kept the connection")


async def test_an_over_long_request_line_is_a_400_and_one_warning(
    server: TestServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    status = await send_raw(server, b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", read=True)
    assert status.startswith(b"HTTP/1.0 400") or status.startswith(b"HTTP/1.1 400"), status
    await connections_closed(server)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info], caplog.text
    assert any("refused a malformed request (LineTooLong" in r.getMessage() for r in caplog.records)


async def test_a_client_leaving_mid_body_logs_no_error(server: TestServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    await send_raw(
        server,
        b"POST /webhooks/rest/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b'Content-Length: 1000\r\n\r\n{"sender": "half',
        read=False,
    )
    await connections_closed(server)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info], caplog.text
