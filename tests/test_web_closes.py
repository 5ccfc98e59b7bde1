"""Widget sockets that end while a frame is handled (issue: closed WebSockets leave phantom live tabs).

Through the real server and a second, independent WebSocket client (``websockets``): tabs say hello, send a
message and go away mid-frame (a TCP abort, or a graceful close), on every store; the server must end each
tab's subscription, on the bus too, and log no ERROR.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web
from websockets.asyncio.client import ClientConnection, connect

from bots.runtime import Runtime, open_runtime
from bots.server.admin import CHANNELS
from bots.server.app import create_app
from bots.server.timeouts import runner_options
from connectors.web.connector import WebChannel
from tests.conftest import demo_config

TABS = 36  # nine ways to leave, four times each, on twelve threads (so threads have several tabs)
CEILING_SECONDS = 60.0  # generous: only a leak takes this long, and then the test fails


@dataclass
class Server:
    app: web.Application
    url: str
    runtime: Runtime


@pytest.fixture(params=[False, True], ids=["handlers-run-on", "handlers-cancelled"])
async def server(request: pytest.FixtureRequest, store_url: str, tmp_path: Path) -> AsyncIterator[Server]:
    """Served as ``threadline run`` serves it (aiohttp lets a handler finish when its client goes), and with
    handlers cancelled when their client goes (as aiohttp's test server does)."""
    config = demo_config(
        tmp_path / "data",
        store=store_url,
        connectors={"web": {"rate_limit": {"messages": 1000, "per_seconds": 60}}},
    )
    async with open_runtime(config) as runtime:
        app = create_app(runtime)
        runner = web.AppRunner(app, handler_cancellation=request.param, **runner_options(config.server))
        await runner.setup()
        sock = socket.create_server(("127.0.0.1", 0))
        await web.SockSite(runner, sock).start()
        try:
            yield Server(app, f"http://127.0.0.1:{sock.getsockname()[1]}", runtime)
        finally:
            await runner.cleanup()


async def until(condition: Callable[[], Awaitable[bool]], what: str) -> None:
    """Wait for the server to get there (it notices closed sockets on its own time), within a ceiling."""
    deadline = asyncio.get_running_loop().time() + CEILING_SECONDS
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, f"still not {what} after {CEILING_SECONDS} s"
        await asyncio.sleep(0.05)


async def hello(ws: ClientConnection, n: int) -> None:
    await ws.send(json.dumps({"type": "hello", "visitor_id": f"visitor-closes-{n % 12:04d}"}))


async def message(ws: ClientConnection, n: int) -> None:
    await ws.send(json.dumps({"type": "message", "id": f"m{n}", "text": "do you have running shoes?"}))


async def ready(ws: ClientConnection) -> None:
    while json.loads(await ws.recv())["type"] != "ready":
        pass


async def abort(ws: ClientConnection) -> None:
    ws.transport.abort()  # a reset: no close frame, no FIN


async def close(ws: ClientConnection) -> None:
    await ws.close()


async def leave(url: str, origin: str, n: int) -> None:
    """Tab ``n`` leaves in one of nine ways: before its hello is answered, mid-message, or later."""
    how = n % 9
    async with connect(url, origin=origin) as ws:  # type: ignore[arg-type]
        await hello(ws, n)
        if how >= 2:
            await ready(ws)
            await message(ws, n)  # a turn runs while the socket goes away
        if how >= 4:
            await message(ws, n + 1000)
        if how >= 6:
            await ws.recv()
        await (abort if how % 2 == 0 else close)(ws)


async def test_every_tab_ends_with_its_socket_however_it_ends(server: Server, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    widget = server.app[CHANNELS]["web"]
    assert isinstance(widget, WebChannel)
    origin, url = server.url, server.url.replace("http", "ws", 1) + "/web/ws"

    async with connect(url, origin=origin) as staying:  # type: ignore[arg-type]
        await hello(staying, 0)
        await ready(staying)
        await asyncio.gather(*(leave(url, origin, n) for n in range(1, TABS + 1)))

        async def only_the_staying_tab() -> bool:
            return widget.open_sockets == 1 and widget.hub.open_tabs == 1

        await until(only_the_staying_tab, "down to the one open tab")
        threads = await server.runtime.store.thread_ids()
        counts = {thread: await widget.live_windows(thread) for thread in threads}
        assert sorted(counts.values()) == [0] * (len(threads) - 1) + [1]  # and on the bus, for every thread

        await message(staying, 1)  # the tab that stayed still gets its answers
        while json.loads(await staying.recv())["type"] != "ack":
            pass

    async def no_tab() -> bool:
        return widget.open_sockets == 0 and widget.hub.open_tabs == 0

    await until(no_tab, "down to no open tab")
    assert [await widget.live_windows(thread) for thread in threads] == [0] * len(threads)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []
