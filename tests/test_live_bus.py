"""The live bus between workers, on real Redis and PostgreSQL servers: two buses stand for two workers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bots.live import open_live_bus
from bots.live.bus import LiveBus
from connectors.web.hub import LiveHub


@pytest.fixture(params=["postgres", "redis"])
def url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(f"{request.param}_url"))


class Worker:
    def __init__(self, bus: LiveBus) -> None:
        self.bus = bus
        self.frames: list[tuple[str, dict[str, Any]]] = []
        self.arrived = asyncio.Event()

    async def on_frame(self, thread_id: str, frame: dict[str, Any]) -> None:
        self.frames.append((thread_id, frame))
        self.arrived.set()

    async def wait_for(self, count: int) -> None:
        while len(self.frames) < count:
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), 60)  # a ceiling, never a pause: returns on arrival
            except TimeoutError:
                raise AssertionError(f"{count} frames expected, {len(self.frames)} came: {self.frames}") from None


@pytest.fixture
async def workers(url: str) -> AsyncIterator[tuple[Worker, Worker]]:
    first, second = open_live_bus(url), open_live_bus(url)
    assert first is not None and second is not None
    pair = Worker(first), Worker(second)
    for worker in pair:
        await worker.bus.start(worker.on_frame)
    yield pair
    for worker in pair:
        await worker.bus.stop()


async def test_frames_reach_the_workers_watching_the_thread_and_not_their_sender(
    workers: tuple[Worker, Worker],
) -> None:
    a, b = workers
    await b.bus.watch("t1")  # returns once the subscription is active: no pause needed before publishing
    await a.bus.watch("t1")
    for n in range(20):
        await a.bus.publish("t1", {"type": "messages", "n": n})
    await a.bus.publish("t2", {"type": "messages", "n": "not watched"})
    await a.bus.publish("t1", {"type": "messages", "n": "last"})  # frames arrive in order: t2's would be first
    await b.wait_for(21)
    assert [f["n"] for t, f in b.frames] == [*range(20), "last"] and {t for t, _ in b.frames} == {"t1"}
    await b.bus.publish("t1", {"type": "messages", "n": "from b"})  # reaches a after a's own echoes, if any
    await a.wait_for(1)
    assert a.frames == [("t1", {"type": "messages", "n": "from b"})]  # its own echo is ignored


async def test_a_frame_larger_than_a_notification_still_arrives(workers: tuple[Worker, Worker]) -> None:
    a, b = workers
    await b.bus.watch("big")
    carousel = {"type": "messages", "messages": [{"text": "👟 " * 5000}]}  # ~15 KB: over NOTIFY's 8000 bytes
    await a.bus.publish("big", carousel)
    await b.wait_for(1)
    assert b.frames == [("big", carousel)]


async def test_an_unwatched_thread_gets_nothing_more(workers: tuple[Worker, Worker]) -> None:
    a, b = workers
    await b.bus.watch("t")
    await b.bus.watch("still")
    await a.bus.publish("t", {"n": 1})
    await b.wait_for(1)
    await b.bus.unwatch("t")  # returns once no later frame of "t" can reach b
    await a.bus.publish("t", {"n": 2})
    await a.bus.publish("still", {"n": 3})  # frames arrive in order: "t"'s would come first
    await b.wait_for(2)
    assert b.frames == [("t", {"n": 1}), ("still", {"n": 3})]


async def test_tabs_count_on_every_worker_and_leave_with_their_worker(workers: tuple[Worker, Worker]) -> None:
    a, b = workers
    assert await a.bus.online("t") == 0
    await a.bus.tab_opened("t", "1")
    await b.bus.tab_opened("t", "1")  # the same tab number on another worker is another tab
    await b.bus.tab_opened("t", "2")
    assert await a.bus.online("t") == 3 and await b.bus.online("t") == 3
    await b.bus.tab_closed("t", "2")
    assert await a.bus.online("t") == 2
    await b.bus.stop()  # a worker that stops withdraws its tabs
    assert await a.bus.online("t") == 1
    await b.bus.start(b.on_frame)  # (the fixture stops it again)


async def test_a_tab_whose_handler_is_cancelled_while_it_subscribes_leaves_no_lease(url: str) -> None:
    """A socket that ends (its handler cancelled) while the bus takes its tab: the tab counts nowhere after."""
    bus = open_live_bus(url)
    assert bus is not None
    hub = LiveHub(bus)
    await hub.start()
    try:

        async def send(frame: dict[str, Any]) -> None: ...

        for turns in range(40):  # cancelled at every step of the subscription, however far the bus got
            subscribing = asyncio.create_task(hub.subscribe("t", send))
            for _ in range(turns):
                await asyncio.sleep(0)  # one turn of the loop
            subscribing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await subscribing
            await hub.unsubscribe("t", send)  # what the connection's handler does last
            assert hub.open_tabs == 0 and await hub.online("t") == 0, f"cancelled after {turns} turns"
    finally:
        await hub.stop()
