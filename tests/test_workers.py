"""Three real workers on one PostgreSQL or Redis store: conversations hop between workers and channels.

Every request names the worker it goes to, so a conversation's turns run on
different processes on purpose. Afterwards each thread's event log is read
straight from the store: complete, in the order it was sent, without
duplicates, and with no two turns interleaved (which the cross-process
thread lock prevents). One test kills a worker with SIGKILL in the middle of
the load: no acknowledged message may be lost, and every thread's lock must
come free again.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bots.store.base import StoredEvent, ThreadStore
from bots.store.factory import open_store
from bots.types import Identity
from tests.cluster import ADMIN_TOKEN, Cluster, write_config

LEASE_SECONDS = 10  # short, so a killed worker's locks free soon; long enough that a starved CI machine keeps them
WORKERS = 3


def with_lease(url: str) -> str:
    return url + ("&" if "?" in url else "?") + f"lock_lease={LEASE_SECONDS}"


@pytest.fixture(params=["postgres", "redis"])
def shared_url(request: pytest.FixtureRequest) -> str:
    return with_lease(str(request.getfixturevalue(f"{request.param}_url")))


@pytest.fixture
def cluster(shared_url: str, tmp_path: Path) -> Iterator[Cluster]:
    running = Cluster(write_config(tmp_path, shared_url), WORKERS).start()
    yield running
    running.stop()


@pytest.fixture
async def store(shared_url: str, tmp_path: Path) -> AsyncIterator[ThreadStore]:
    opened = open_store(shared_url, tmp_path)
    await opened.open()
    yield opened
    await opened.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        yield session


async def whole_log(store: ThreadStore, thread_id: str) -> list[StoredEvent]:
    events: list[StoredEvent] = []
    while batch := await store.events(thread_id, after=len(events), limit=500):
        events.extend(batch)
    return events


def check_log(events: list[StoredEvent], expected_texts: list[str] | None = None) -> list[str]:
    """The user texts of a thread's log, after checking that it is whole, ordered and not interleaved."""
    assert [e.seq for e in events] == list(range(1, len(events) + 1)), "the log has gaps or repeats"
    inbound_ids = [e.event.message_id for e in events if e.event.kind == "user"]
    assert len(inbound_ids) == len(set(inbound_ids)), "a message was recorded twice"
    kinds = [e.event.kind for e in events]
    for index, kind in enumerate(kinds):
        if kind == "user":  # its turn answered before the next message was taken (one turn at a time)
            following = kinds[index + 1 :]
            next_user = following.index("user") if "user" in following else len(following)
            assert "bot" in following[:next_user], f"turn at seq {index + 1} has no reply before the next one"
    texts = [str(e.event.data.get("text")) for e in events if e.event.kind == "user"]
    if expected_texts is not None:
        assert texts == expected_texts
    return texts


async def rest(http: aiohttp.ClientSession, base: str, sender: str, text: str, message_id: str) -> list[Any]:
    async with http.post(
        f"{base}/webhooks/rest/webhook", json={"sender": sender, "message": text, "message_id": message_id}
    ) as response:
        assert response.status == 200, await response.text()
        body = await response.json()
    assert body, f"no reply to {text!r}"
    return list(body)


async def web_hello(http: aiohttp.ClientSession, base: str, visitor: str) -> dict[str, Any]:
    async with http.post(f"{base}/web/api/hello", json={"visitor_id": visitor}) as response:
        assert response.status == 200, await response.text()
        return dict(await response.json())


async def web_send(http: aiohttp.ClientSession, base: str, visitor: str, text: str, frame_id: str) -> dict[str, Any]:
    async with http.post(
        f"{base}/web/api/send", json={"visitor_id": visitor, "frame": {"type": "message", "id": frame_id, "text": text}}
    ) as response:
        assert response.status == 200, await response.text()
        body = dict(await response.json())
    assert body["type"] == "ack" and not body["duplicate"]
    return body


def visitor_id(n: int) -> str:
    return f"visitor{n:013d}"


async def one_thread_on_two_channels(http: aiohttp.ClientSession, cluster: Cluster, store: ThreadStore, n: int) -> str:
    """Conversation ``n``: a website visitor and a REST sender on ONE thread (as a redeemed link leaves them)."""
    await web_hello(http, cluster.url(n % WORKERS), visitor_id(n))
    thread = await store.find(Identity("web", visitor_id(n)))
    assert thread is not None
    await store.link(Identity("rest", f"c{n}"), thread, now=1.0)
    return thread


async def test_hundreds_of_conversations_hop_between_workers_and_channels(
    cluster: Cluster, store: ThreadStore, http: aiohttp.ClientSession
) -> None:
    conversations, turns = 200, 4
    threads = await asyncio.gather(*(one_thread_on_two_channels(http, cluster, store, n) for n in range(conversations)))
    sent: dict[int, list[str]] = {n: [] for n in range(conversations)}
    gate = asyncio.Semaphore(64)

    async def converse(n: int) -> None:
        for k in range(turns):
            base = cluster.url((n + k) % WORKERS)  # every turn on another worker
            text = f"hello, this is message {k} of conversation {n}"
            async with gate:
                if (n + k) % 2:
                    await rest(http, base, f"c{n}", text, f"m{n}-{k}")
                else:
                    await web_send(http, base, visitor_id(n), text, f"m{n}-{k}")
            sent[n].append(text)

    await asyncio.gather(*(converse(n) for n in range(conversations)))
    for n, thread in enumerate(threads):
        check_log(await whole_log(store, thread), sent[n])
        assert await store.find(Identity("rest", f"c{n}")) == thread


async def test_messages_of_one_thread_at_three_workers_at_once_take_turns(
    cluster: Cluster, store: ThreadStore, http: aiohttp.ClientSession
) -> None:
    conversations, bursts = 40, 3

    async def burst(n: int, b: int) -> None:
        # the same customer's messages reach all three workers at the same moment
        await asyncio.gather(
            *(
                rest(http, cluster.url(w), f"burst{n}", f"hello from burst {b} at worker {w}", f"b{n}-{b}-{w}")
                for w in range(WORKERS)
            )
        )

    async def customer(n: int) -> None:
        for b in range(bursts):
            await burst(n, b)

    await asyncio.gather(*(customer(n) for n in range(conversations)))
    for n in range(conversations):
        thread = await store.find(Identity("rest", f"burst{n}"))
        assert thread is not None
        texts = check_log(await whole_log(store, thread))
        assert sorted(texts) == sorted(
            f"hello from burst {b} at worker {w}" for b in range(bursts) for w in range(WORKERS)
        )


async def test_a_reply_made_on_any_worker_reaches_the_open_tab_exactly_once(
    cluster: Cluster, store: ThreadStore, http: aiohttp.ClientSession
) -> None:
    thread = await one_thread_on_two_channels(http, cluster, store, 7)
    ws = await http.ws_connect(cluster.url(0) + "/web/ws")  # the tab is connected to worker 0 only
    await ws.send_str(json.dumps({"type": "hello", "visitor_id": visitor_id(7)}))
    ready = json.loads((await ws.receive(timeout=60)).data)
    assert ready["type"] == "ready"

    await web_send(http, cluster.url(1), visitor_id(7), "hi from another tab", "w1")  # the website, on worker 1
    await rest(http, cluster.url(2), "c7", "hello over rest", "r1")  # another channel, on worker 2
    async with http.post(
        f"{cluster.url(2)}/api/threads/{thread}/messages",
        json={"text": "Sam here", "by": "Sam"},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    ) as response:
        assert response.status == 200, await response.text()
        # the tab on worker 0 counts as live for worker 2: presence is shared too
        assert (await response.json())["live_tabs"] == 1

    async with http.post(  # a last message: a frame that came twice would come before it
        f"{cluster.url(1)}/api/threads/{thread}/messages",
        json={"text": "That is all", "by": "Sam"},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    ) as response:
        assert response.status == 200, await response.text()
    pushed: list[dict[str, Any]] = []
    while not pushed or pushed[-1].get("text") != "That is all":
        frame = json.loads((await ws.receive(timeout=60)).data)  # a ceiling: returns as a frame arrives
        if frame["type"] == "messages":
            pushed += frame["messages"]
    log = await whole_log(store, thread)
    shown = [e.seq for e in log if e.event.kind in ("user", "bot", "agent")]
    assert [m["seq"] for m in pushed] == shown  # each exactly once, in order
    texts = [m.get("text") for m in pushed]
    assert "hi from another tab" in texts and "Sam here" in texts and "Hello!" in texts
    await ws.close()


async def test_a_worker_killed_mid_load_loses_no_acknowledged_message(
    cluster: Cluster, store: ThreadStore, http: aiohttp.ClientSession
) -> None:
    conversations, turns = 60, 8
    acknowledged: dict[int, list[str]] = {n: [] for n in range(conversations)}
    answered_by_victim = 0
    alive = list(range(WORKERS))
    halfway = asyncio.Event()
    done = 0
    rng = random.Random(9)

    async def deliver(n: int, k: int) -> None:
        nonlocal answered_by_victim
        text = f"hello, message {k} of {n}"
        worker = (n + k) % WORKERS
        while True:  # a client whose request failed sends the same message (same id) to another worker
            if worker not in alive:
                worker = rng.choice(alive)
            try:
                await rest(http, cluster.url(worker), f"k{n}", text, f"k{n}-{k}")
            except aiohttp.ClientError:
                worker = (worker + 1) % WORKERS
                await asyncio.sleep(0.05)
                continue
            acknowledged[n].append(text)
            answered_by_victim += worker == WORKERS - 1
            return

    async def converse(n: int) -> None:
        nonlocal done
        for k in range(turns):
            await deliver(n, k)
            done += 1
            if done == conversations * turns // 3:
                halfway.set()

    async def killer() -> None:
        await halfway.wait()
        alive.remove(WORKERS - 1)
        cluster.kill(WORKERS - 1)

    await asyncio.gather(killer(), *(converse(n) for n in range(conversations)))
    assert answered_by_victim > 0  # the killed worker was really serving before it died

    for n in range(conversations):
        thread = await store.find(Identity("rest", f"k{n}"))
        assert thread is not None
        check_log(await whole_log(store, thread), acknowledged[n])

    # every lock the dead worker held comes free (its lease runs out): each thread answers again
    await asyncio.gather(
        *(rest(http, cluster.url(n % 2), f"k{n}", "hello again", f"k{n}-again") for n in range(conversations))
    )
    for n in range(conversations):
        thread = await store.find(Identity("rest", f"k{n}"))
        assert thread is not None
        check_log(await whole_log(store, thread), acknowledged[n] + ["hello again"])
