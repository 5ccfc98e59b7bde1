"""The Redis thread lock: a FIFO queue of tokens per key, each alive while its holder renews its lease.

A holder that stops (killed, frozen) loses its place when its lease runs
out; a lost lock cannot corrupt a thread because every commit checks the
version it loaded. Why it is built this way: docs/stores.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bots.store.base import ThreadLock
from bots.store.records import ConflictError
from bots.store.redis.lua import Keys

log = logging.getLogger(__name__)
RELEASE_TIMEOUT_SECONDS = 5.0  # a release that cannot reach Redis gives up; the lease then runs out by itself


def _still_running() -> None:
    """Re-raise a cancellation redis-py swallowed: a pipeline cancelled mid-flight can return its results (or
    raise a connection error) with the task still marked as cancelling, and a loop that carried on would keep
    asyncio.run() from ever finishing (seen with redis-py 8.2 on Python 3.11)."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


@dataclass
class _Waiter:
    key: str
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    holding: bool = False
    lost: bool = False


# the locks the current task holds, so a commit can refuse to write under a lock known to be lost
_HELD: contextvars.ContextVar[tuple[_Waiter, ...]] = contextvars.ContextVar("threadline_redis_locks", default=())


def refuse_if_lock_lost() -> None:
    for waiter in _HELD.get():
        if waiter.lost:
            raise ConflictError(
                f"the lock on {waiter.key!r} was lost (this process stalled past its lease): "
                "another worker may hold it, so nothing is written"
            )


class RedisThreadLock(ThreadLock):
    """A FIFO lock per key across processes: a Redis list of tokens, each alive while its lease key lives.

    Every waiter queues its own token (rather than one token per process and key): two waiters of one
    process with a waiter of another process between them must still be served in arrival order.
    """

    def __init__(self, client: aioredis.Redis, keys: Keys, lease: float, acquire: Any, release: Any) -> None:
        self._client = client
        self._keys = keys
        self._lease = lease
        self._lease_ms = max(int(lease * 1000), 1)
        self._acquire = acquire
        self._release = release
        self._process = uuid.uuid4().hex  # the first part of every token: where to publish its wake-up
        self._waiters: dict[str, _Waiter] = {}  # token -> waiter or holder, refreshed by _refresh
        self._pubsub: Any = None
        self._tasks: list[asyncio.Task[None]] = []
        self._releases: set[asyncio.Task[None]] = set()
        self._starting = asyncio.Lock()

    @asynccontextmanager
    async def lock(self, key: str) -> AsyncIterator[None]:
        await self._start()
        token = f"{self._process}:{uuid.uuid4().hex}"
        waiter = _Waiter(key)
        self._waiters[token] = waiter
        try:
            while True:
                waiter.wake.clear()  # before the check: a wake-up published after it is not missed
                acquired = await self._acquire(args=[key, token, self._lease_ms])
                _still_running()
                if acquired == 1:
                    break
                # woken by the releaser, or re-check after lease/3 (a dead holder's lease runs out)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waiter.wake.wait(), self._lease / 3)
            waiter.holding = True
            held = _HELD.set((*_HELD.get(), waiter))
            try:
                yield
            finally:
                _HELD.reset(held)
        finally:
            self._waiters.pop(token, None)  # no longer refreshed: if the release fails, the lease runs out
            release = asyncio.create_task(self._release_quietly(key, token))
            self._releases.add(release)
            release.add_done_callback(self._releases.discard)
            await asyncio.shield(release)  # a cancelled caller still releases

    async def _release_quietly(self, key: str, token: str) -> None:
        try:
            await asyncio.wait_for(self._release(args=[key, token]), RELEASE_TIMEOUT_SECONDS)
        except (TimeoutError, RedisError, OSError) as exc:
            log.warning("could not release the lock on %s (%s); it comes free when its lease runs out", key, exc)

    async def _start(self) -> None:
        async with self._starting:
            if self._tasks:
                return
            pubsub = self._client.pubsub()
            try:
                await pubsub.subscribe(self._keys("lockwake", self._process))
                loop = asyncio.get_running_loop()
                deadline = loop.time() + 10
                while loop.time() < deadline:  # subscribed for sure before any release could publish to us
                    message = await pubsub.get_message(timeout=1.0)
                    if message is not None and message["type"] == "subscribe":
                        break
            except BaseException:
                await pubsub.aclose()
                raise
            self._pubsub = pubsub
            self._tasks = [asyncio.create_task(self._listen()), asyncio.create_task(self._refresh())]

    async def _listen(self) -> None:
        """Wake the waiter a release (or the removal of a dead head) published for."""
        failing = False
        while True:
            try:
                message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=None)
            except Exception as exc:  # the task must live on: it is every waiter's wake-up
                _still_running()
                (log.debug if failing else log.warning)(
                    "lock wake-ups: %s; waiters re-check by themselves meanwhile", exc
                )
                failing = True
                for waiter in list(self._waiters.values()):
                    waiter.wake.set()
                await asyncio.sleep(min(1.0, self._lease / 3))
                continue
            _still_running()
            failing = False
            if message is not None and message.get("type") == "message":
                woken = self._waiters.get(message["data"])
                if woken is not None:
                    woken.wake.set()

    async def _refresh(self) -> None:
        """Keep the leases of this process's waiters and holders alive: one pipeline per lease/3."""
        while True:
            await asyncio.sleep(self._lease / 3)
            live = list(self._waiters.items())
            if not live:
                continue
            try:
                async with self._client.pipeline(transaction=False) as pipe:
                    for token, waiter in live:
                        pipe.pexpire(self._keys("lease", token), self._lease_ms)
                        pipe.pexpire(self._keys("lockq", waiter.key), self._lease_ms)
                    results = await pipe.execute()
            except Exception as exc:  # the task must live on, or every lease of this process runs out
                _still_running()
                log.warning("could not refresh lock leases: %s", exc)
                continue
            _still_running()
            for (_token, waiter), alive in zip(live, results[::2], strict=False):
                if not alive and waiter.holding and not waiter.lost:
                    waiter.lost = True  # PEXPIRE does not bring a lease back: another worker may hold it now
                    log.warning(
                        "the lock on %s was lost (this process stalled longer than its lease); "
                        "the store's version check refuses its stale writes",
                        waiter.key,
                    )

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._releases:
            await asyncio.gather(*self._releases, return_exceptions=True)
        if self._pubsub is not None:
            await self._pubsub.aclose()
            self._pubsub = None
