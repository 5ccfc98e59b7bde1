"""The hand-off webhook, to a real HTTP receiver on loopback that checks the signature as a team's bridge would."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bots.handoff.notify import OUTBOX
from tests.handoff_helpers import Clock, berlin, demo_server, runtime_of, say

SECRET = "team-bridge-secret-0123456789"


class Receiver:
    """A team's endpoint: refuses bad signatures and old timestamps, answers with the statuses it is given."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.hold = asyncio.Event()  # the endpoint answers only once this is set
        self.hold.set()
        self.got: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.refused: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        parts = dict(p.split("=", 1) for p in request.headers.get("X-Threadline-Signature", "").split(","))
        expected = hmac.new(SECRET.encode(), f"{parts.get('t')}.".encode() + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, parts.get("v1", "")) or abs(time.time() - int(parts["t"])) > 300:
            self.refused.append(body.decode())
            return web.Response(status=401)
        await self.got.put(json.loads(body))
        await self.hold.wait()
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Receiver], Awaitable[str]]]:
    servers: list[TestServer] = []

    async def start(receiver: Receiver) -> str:
        app = web.Application()
        app.router.add_post("/hook", receiver.handle)
        server = TestServer(app)
        await server.start_server()
        servers.append(server)
        return str(server.make_url("/hook"))

    yield start
    for server in servers:
        await server.close()


async def eventually(condition: Callable[[], Awaitable[bool]]) -> None:
    """Wait until ``condition`` holds (the test's own timeout bounds it)."""
    while not await condition():
        await asyncio.sleep(0.02)


async def test_a_queued_handoff_is_posted_signed_and_retried(tmp_path: Path, serve: Any) -> None:
    receiver = Receiver([503])  # the first attempt fails: it is retried without the customer waiting for it
    url = await serve(receiver)
    clock = Clock(berlin("2026-12-07", 10))
    async with demo_server(tmp_path / "data", clock, notify_url=url, notify_secret=SECRET) as client:
        runtime_of(client).handoff.notifier.first_retry = 0.05
        receiver.hold.clear()  # the team's endpoint hangs: the customer's answer must not wait for it
        replies = await say(client, "ana", "I want to talk to a real person")
        assert replies[0].startswith("I'm passing you to a person")
        first = await asyncio.wait_for(receiver.got.get(), 30)
        receiver.hold.set()
        second = await asyncio.wait_for(receiver.got.get(), 30)
        assert first == second and receiver.refused == []
        assert first["event"] == "handoff.queued" and first["channel"] == "rest" and first["language"] == "en"
        assert first["last_message"] == "I want to talk to a real person"
        assert first["queued_at"] == clock.now and first["open"] is True and first["agents_online"] == 0
        assert first["id"].startswith(first["thread_id"] + ":")
        assert first["inbox_url"].endswith(f"/inbox#thread={first['thread_id']}")
        store = runtime_of(client).store
        await eventually(lambda: _empty(store))
        assert await say(client, "bo", "hi") != []  # a turn without a hand-off notifies nobody
        assert receiver.got.empty()


async def test_an_unsent_notification_survives_a_restart(tmp_path: Path, serve: Any) -> None:
    down = Receiver([500] * 1000)
    clock = Clock(berlin("2026-12-07", 10))
    async with demo_server(tmp_path / "data", clock, notify_url=await serve(down), notify_secret=SECRET) as client:
        await say(client, "cy", "I want to talk to a real person")
        tried = await asyncio.wait_for(down.got.get(), 30)
    up = Receiver([])
    async with demo_server(tmp_path / "data", clock, notify_url=await serve(up), notify_secret=SECRET) as client:
        delivered = await asyncio.wait_for(up.got.get(), 30)
        assert delivered == tried
        store = runtime_of(client).store
        await eventually(lambda: _empty(store))


async def _empty(store: Any) -> bool:
    return not await store.pending_inbound(OUTBOX)


async def test_a_forged_signature_is_what_receivers_refuse(serve: Any) -> None:
    """The check this file's receiver makes is a real one: a body signed with another secret fails it."""
    from bots.handoff.notify import signature

    receiver = Receiver([])
    url = await serve(receiver)
    body = b'{"event":"handoff.queued"}'
    import aiohttp

    async with aiohttp.ClientSession() as session:
        forged = {"X-Threadline-Signature": signature("another-secret-0123456789", int(time.time()), body)}
        async with session.post(url, data=body, headers=forged) as response:
            assert response.status == 401
        stale = {"X-Threadline-Signature": signature(SECRET, int(time.time()) - 3600, body)}
        async with session.post(url, data=body, headers=stale) as response:
            assert response.status == 401
        good = {"X-Threadline-Signature": signature(SECRET, int(time.time()), body)}
        async with session.post(url, data=body, headers=good) as response:
            assert response.status == 200
