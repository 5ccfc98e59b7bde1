"""The cross-process thread lock: exclusive, in arrival order, and it comes free when its holder dies.

Every store shared by several workers (PostgreSQL, Redis) gives a lock with
these properties. Two store objects stand for two workers; a child process
stands for a worker that is killed (-9) or frozen (SIGSTOP) while it holds a
lock. The lease is shortened through the URL so the tests need not wait
long; waiting for the lock to come free has no time bound in the assertions.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bots.store.base import ConflictError, ThreadLock, ThreadStore
from bots.store.factory import open_store
from bots.store.postgres.lock import lock_id
from bots.store.postgres.store import PostgresThreadStore
from bots.store.redis.store import RedisThreadStore
from bots.types import ThreadEvent

LEASE_SECONDS = 2
CEILING_SECONDS = 60.0  # a bound on waiting for a condition, never a wait: each returns as soon as it holds

HOLDER = """
import asyncio, sys
from pathlib import Path
from bots.store.factory import open_store
from bots.store.postgres.lock import lock_id
from bots.store.postgres.store import PostgresThreadStore
from bots.store.redis.store import RedisThreadStore

async def main() -> None:
    store = open_store(sys.argv[1], Path("."))
    await store.open()
    async with store.thread_lock().lock(sys.argv[2]):
        snapshot = await store.load(sys.argv[2])
        print("held", snapshot.version if snapshot else 0, flush=True)
        sys.stdin.readline()  # the test says when to commit (after un-freezing it)
        await store.commit(sys.argv[2], {"by": "holder"}, [], expected_version=snapshot.version if snapshot else 0,
                           now=1.0, wake_at=None)
        print("committed", flush=True)

asyncio.run(main())
"""


@pytest.fixture(params=["postgres", "redis"])
def shared_url(request: pytest.FixtureRequest) -> str:
    url = str(request.getfixturevalue(f"{request.param}_url"))
    return url + ("&" if "?" in url else "?") + f"lock_lease={LEASE_SECONDS}"


@pytest.fixture
async def workers(shared_url: str, tmp_path: Path) -> AsyncIterator[tuple[ThreadStore, ThreadStore]]:
    first, second = open_store(shared_url, tmp_path), open_store(shared_url, tmp_path)
    await first.open()
    await second.open()
    yield first, second
    await first.close()
    await second.close()


async def queued(store: ThreadStore, key: str) -> int:
    """How many hold or wait for the lock on ``key``, as the shared server sees them: their place in its queue."""
    if isinstance(store, RedisThreadStore):
        return int(await store.client.llen(store.keys("lockq", key)))
    assert isinstance(store, PostgresThreadStore)
    unsigned = lock_id(key) & 0xFFFF_FFFF_FFFF_FFFF  # a bigint advisory lock is two oids: high and low half
    return int(
        await store._db.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND objid = $2"
            " AND objsubid = 1",
            unsigned >> 32,
            unsigned & 0xFFFF_FFFF,
        )
    )


async def until_queued(store: ThreadStore, key: str, count: int) -> None:
    deadline = time.monotonic() + CEILING_SECONDS
    while (now := await queued(store, key)) != count:
        assert time.monotonic() < deadline, f"{now} hold or wait for {key}, not {count}, after {CEILING_SECONDS:g} s"
        await asyncio.sleep(0.01)


async def test_two_workers_take_turns_and_nothing_is_lost(workers: tuple[ThreadStore, ThreadStore]) -> None:
    locks = [store.thread_lock() for store in workers]
    inside: list[str] = []

    async def turn(n: int) -> None:
        store, lock = workers[n % 2], locks[n % 2]
        async with lock.lock("thread:t1"):
            inside.append(f"in{n}")
            snapshot = await store.load("t1")
            version = snapshot.version if snapshot else 0
            await asyncio.sleep(0.002)  # a turn's work: without the lock the other worker would interleave here
            await store.commit(
                "t1",
                {"n": n},
                [ThreadEvent("user", {"n": n}, float(n), "rest")],
                expected_version=version,
                now=float(n),
                wake_at=None,
            )
            inside.append(f"out{n}")

    await asyncio.gather(*(turn(n) for n in range(40)))
    assert all(inside[i].startswith("in") and inside[i + 1] == "out" + inside[i][2:] for i in range(0, 80, 2))
    assert len(await workers[0].events("t1")) == 40


async def test_waiters_on_two_workers_get_the_lock_in_arrival_order(workers: tuple[ThreadStore, ThreadStore]) -> None:
    locks = [store.thread_lock() for store in workers]
    order: list[int] = []
    release = asyncio.Event()

    async def holder() -> None:
        async with locks[0].lock("thread:order"):
            await release.wait()

    async def waiter(n: int) -> None:
        async with locks[n % 2].lock("thread:order"):
            order.append(n)

    all_held = asyncio.Barrier(8)

    async def warm(lock: object, n: int) -> None:  # connections opened, as a running worker has them
        async with lock.lock(f"thread:warm-{n}"):  # type: ignore[attr-defined]
            await all_held.wait()  # eight held at once: eight connections

    await asyncio.gather(*(warm(locks[n % 2], n) for n in range(8)))
    first = asyncio.create_task(holder())
    await until_queued(workers[0], "thread:order", 1)  # the holder holds it
    waiting = []
    for n in range(6):  # each waiter queues at the server before the next one arrives
        waiting.append(asyncio.create_task(waiter(n)))
        await until_queued(workers[0], "thread:order", n + 2)
    release.set()
    await asyncio.gather(first, *waiting)
    assert order == list(range(6))


async def test_different_threads_do_not_wait_for_each_other(workers: tuple[ThreadStore, ThreadStore]) -> None:
    a, b = workers[0].thread_lock(), workers[1].thread_lock()
    # would hang (and the suite's timeout fail it) if another thread's lock were the same lock
    async with a.lock("thread:x"), b.lock("thread:y"):
        pass


async def test_an_error_inside_releases_the_lock(workers: tuple[ThreadStore, ThreadStore]) -> None:
    a, b = workers[0].thread_lock(), workers[1].thread_lock()
    with pytest.raises(RuntimeError):
        async with a.lock("thread:err"):
            raise RuntimeError("boom")
    async with b.lock("thread:err"):
        pass


async def test_a_nested_lock_let_go_is_free_once_its_holder_asks_for_another_or_lets_go_of_the_outer(
    workers: tuple[ThreadStore, ThreadStore],
) -> None:
    """A turn holds its identity's lock and, inside it, its thread's; a thread it gave up (the identity moved
    meanwhile) must be free for others while it waits for the next one, or two such turns could deadlock."""
    a, b = workers[0].thread_lock(), workers[1].thread_lock()
    async with b.lock("thread:n2"):
        entered, granted = asyncio.Event(), asyncio.Event()

        async def first_worker() -> None:
            async with a.lock("identity:n"):
                async with a.lock("thread:n1"):
                    entered.set()
                async with a.lock("thread:n2"):  # waits for the other worker, which wants thread:n1 meanwhile
                    granted.set()

        holder = asyncio.create_task(first_worker())
        await entered.wait()
        await until_queued(workers[1], "thread:n2", 2)  # the first worker waits for it now
        # a ceiling, not a wait: a lock given up but still held would hang here for ever
        await asyncio.wait_for(_take_and_let_go(b, "thread:n1"), CEILING_SECONDS)
        assert not granted.is_set()
    await asyncio.wait_for(holder, CEILING_SECONDS)
    for key in ("thread:n1", "thread:n2", "identity:n"):
        await until_queued(workers[1], key, 0)


async def _take_and_let_go(lock: ThreadLock, key: str) -> None:
    async with lock.lock(key):
        pass


def _start_holder(url: str, key: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url, key],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("held"), line
    return process


async def test_a_killed_workers_lock_comes_free(workers: tuple[ThreadStore, ThreadStore], shared_url: str) -> None:
    process = _start_holder(shared_url, "t-killed")
    process.kill()  # kill -9: no chance to release anything
    process.wait()
    async with workers[0].thread_lock().lock("t-killed"):
        await workers[0].commit("t-killed", {"by": "survivor"}, [], expected_version=0, now=2.0, wake_at=None)
    snapshot = await workers[0].load("t-killed")
    assert snapshot is not None and snapshot.state == {"by": "survivor"}


async def test_a_frozen_worker_loses_its_lock_and_cannot_write_afterwards(
    workers: tuple[ThreadStore, ThreadStore], shared_url: str
) -> None:
    store = workers[0]
    await store.commit(
        "t-frozen", {"by": "start"}, [ThreadEvent("user", {}, 1.0, "rest")], expected_version=0, now=1.0, wake_at=None
    )
    process = _start_holder(shared_url, "t-frozen")
    os.kill(process.pid, signal.SIGSTOP)  # alive but not running: its lease runs out
    try:
        async with store.thread_lock().lock("t-frozen"):
            await store.commit(
                "t-frozen",
                {"by": "survivor"},
                [ThreadEvent("user", {}, 2.0, "rest")],
                expected_version=1,
                now=2.0,
                wake_at=None,
            )
    finally:
        os.kill(process.pid, signal.SIGCONT)
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write("\n")
    process.stdin.flush()
    output = process.stdout.read()
    process.wait(30)
    # the old holder woke up believing it held the lock: its write is refused, the survivor's stands
    assert "committed" not in output and process.returncode != 0
    snapshot = await store.load("t-frozen")
    assert snapshot is not None and snapshot.state == {"by": "survivor"} and snapshot.version == 2
    with pytest.raises(ConflictError):
        await store.commit("t-frozen", {"by": "late"}, [], expected_version=1, now=3.0, wake_at=None)
