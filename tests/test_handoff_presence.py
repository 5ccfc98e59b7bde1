"""Agents' presence across workers, on real Redis and PostgreSQL servers: two buses stand for two workers."""

from __future__ import annotations

import pytest

from bots.handoff.presence import BusPresence, LocalPresence
from bots.live import open_live_bus


@pytest.fixture(params=["postgres", "redis"])
def url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(f"{request.param}_url"))


async def _ignore(thread_id: str, frame: dict[str, object]) -> None:
    return None


async def test_every_worker_counts_the_agents_connected_to_any_worker(url: str) -> None:
    first, second = open_live_bus(url), open_live_bus(url)
    assert first is not None and second is not None
    await first.start(_ignore)
    await second.start(_ignore)
    try:
        here, there = BusPresence(first), BusPresence(second)
        assert (await here.online(), await there.online()) == (0, 0)
        await here.connected("eva-laptop")
        await there.connected("eva-tablet")
        await there.connected("max")
        assert (await here.online(), await there.online()) == (3, 3)
        await there.disconnected("max")
        assert await here.online() == 2
    finally:
        await second.stop()  # a worker that stops withdraws its agents' connections
    assert await here.online() == 1
    await first.stop()


async def test_one_process_counts_in_memory() -> None:
    presence = LocalPresence()
    await presence.connected("a")
    await presence.connected("a")  # the same connection told twice counts once
    await presence.connected("b")
    await presence.disconnected("a")
    assert await presence.online() == 1
