"""The live bus on Redis: pub/sub for frames, sorted sets of leases for presence.

One channel per thread (``<prefix>live:<thread>``) that a worker subscribes
to while it has a tab of that thread, so a worker receives only the frames
its tabs need; plus one channel of its own, so the subscriber connection is
never idle-unsubscribed and redis-py re-subscribes everything after a
reconnect.

``watch`` and ``unwatch`` return only once Redis has confirmed the change on
the subscriber connection: a tab's hello is answered only when every frame
published after it will reach this worker, and a thread unwatched gets no
frame published after ``unwatch`` returned.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bots.errors import UserError
from bots.live.bus import PRESENCE_RENEW_SECONDS, PRESENCE_TTL_SECONDS, LiveBus, OnFrame, cancel_all
from bots.store.urls import redacted, split_options

log = logging.getLogger(__name__)
CONFIRM_SECONDS = 30.0  # how long watch/unwatch wait for Redis to confirm before going on without it


class RedisLiveBus(LiveBus):
    def __init__(self, url: str) -> None:
        super().__init__()
        self.url, options = split_options(url)
        self.prefix = options.get("prefix", "tl:")
        self._client: aioredis.Redis | None = None
        self._pubsub: Any = None
        self._tasks: list[asyncio.Task[None]] = []
        self._on_frame: OnFrame | None = None
        self._confirming: dict[tuple[str, str], list[asyncio.Future[None]]] = {}  # (kind, channel) -> waiters

    def _channel(self, thread_id: str) -> str:
        return f"{self.prefix}live:{thread_id}"

    def _tabs_key(self, thread_id: str) -> str:
        return f"{self.prefix}tabs:{thread_id}"

    def _member(self, tab_id: str) -> str:
        return f"{self.worker_id}|{tab_id}"

    async def start(self, on_frame: OnFrame) -> None:
        self._on_frame = on_frame
        self._client = aioredis.from_url(self.url, decode_responses=True)
        try:
            await self._client.ping()
        except (RedisError, OSError) as exc:
            await self._client.aclose()
            raise UserError(f"live bus {redacted(self.url)}: cannot connect: {exc}") from None
        self._pubsub = self._client.pubsub()  # confirmations are read: watch and unwatch wait for theirs
        await self._pubsub.subscribe(f"{self.prefix}worker:{self.worker_id}")
        self._tasks = [
            asyncio.create_task(self._listen(), name="live-bus-listen"),
            asyncio.create_task(self._renew(), name="live-bus-presence"),
        ]

    async def stop(self) -> None:
        await cancel_all(self._tasks)
        self._tasks = []
        for waiters in self._confirming.values():  # nothing reads confirmations any more: nobody waits for one
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)
        if self._client is not None:
            try:
                async with self._client.pipeline(transaction=False) as pipe:
                    for thread_id, tabs in self._tabs.items():
                        pipe.zrem(self._tabs_key(thread_id), *(self._member(t) for t in tabs))
                    await pipe.execute()
            except (RedisError, OSError) as exc:  # their leases run out by themselves
                log.warning("live bus: could not withdraw this worker's tabs: %s", exc)
            if self._pubsub is not None:
                await self._pubsub.aclose()
            await self._client.aclose()
        self._client = self._pubsub = None
        self._tabs.clear()

    async def _listen(self) -> None:
        backoff = 0.1
        while True:
            try:
                message = await self._pubsub.get_message(timeout=None)
                backoff = 0.1
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:  # redis-py reconnects and re-subscribes on the next read
                log.warning("live bus: connection lost (%s); reconnecting in %.1f s", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if not message:
                continue
            channel = str(message["channel"])
            if message.get("type") in ("subscribe", "unsubscribe"):
                self._confirmed(str(message["type"]), channel)
                continue
            if message.get("type") != "message":
                continue
            if not channel.startswith(f"{self.prefix}live:"):
                continue
            try:
                body = json.loads(message["data"])
            except ValueError:
                log.warning("live bus: ignoring a malformed frame on %s", channel)
                continue
            if body.get("origin") == self.worker_id or self._on_frame is None:
                continue  # this worker delivered it to its own tabs already
            try:
                await self._on_frame(channel[len(self.prefix) + 5 :], body["frame"])
            except Exception:
                log.exception("live bus: delivering a frame for %s failed", channel)

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(PRESENCE_RENEW_SECONDS)
            if not self._tabs or self._client is None:
                continue
            expires = time.time() + PRESENCE_TTL_SECONDS
            try:
                async with self._client.pipeline(transaction=False) as pipe:
                    for thread_id, tabs in self._tabs.items():
                        key = self._tabs_key(thread_id)
                        pipe.zadd(key, {self._member(t): expires for t in tabs})
                        pipe.zremrangebyscore(key, "-inf", time.time())
                        pipe.expire(key, int(PRESENCE_TTL_SECONDS * 2))
                    await pipe.execute()
            except (RedisError, OSError) as exc:
                log.warning("live bus: renewing tab leases failed: %s", exc)

    async def publish(self, thread_id: str, frame: dict[str, Any]) -> None:
        assert self._client is not None, "start the bus first"
        body = json.dumps({"origin": self.worker_id, "frame": frame}, ensure_ascii=False)
        await self._client.publish(self._channel(thread_id), body)

    async def watch(self, thread_id: str) -> None:
        await self._until_confirmed("subscribe", self._channel(thread_id), self._pubsub.subscribe)

    async def unwatch(self, thread_id: str) -> None:
        await self._until_confirmed("unsubscribe", self._channel(thread_id), self._pubsub.unsubscribe)

    async def _until_confirmed(self, kind: str, channel: str, send: Callable[[str], Awaitable[Any]]) -> None:
        """Send (un)subscribe, then wait until the listener reads Redis's confirmation of it."""
        confirmed = asyncio.get_running_loop().create_future()
        waiters = self._confirming.setdefault((kind, channel), [])
        waiters.append(confirmed)
        try:
            await send(channel)
            await asyncio.wait_for(asyncio.shield(confirmed), CONFIRM_SECONDS)
        except TimeoutError:  # the connection is down: redis-py re-subscribes when it is back
            log.warning("live bus: Redis did not confirm %s %s; going on", kind, channel)
        finally:
            if confirmed in waiters:
                waiters.remove(confirmed)
            if not waiters:
                self._confirming.pop((kind, channel), None)

    def _confirmed(self, kind: str, channel: str) -> None:
        """Redis confirmed a (un)subscribe: the oldest waiter for it goes on (re-subscribes have none)."""
        waiters = self._confirming.get((kind, channel))
        if waiters:
            waiter = waiters.pop(0)
            if not waiter.done():
                waiter.set_result(None)

    async def tab_opened(self, thread_id: str, tab_id: str) -> None:
        assert self._client is not None
        self._remember_tab(thread_id, tab_id)
        key = self._tabs_key(thread_id)
        async with self._client.pipeline(transaction=False) as pipe:
            pipe.zadd(key, {self._member(tab_id): time.time() + PRESENCE_TTL_SECONDS})
            pipe.expire(key, int(PRESENCE_TTL_SECONDS * 2))
            await pipe.execute()

    async def tab_closed(self, thread_id: str, tab_id: str) -> None:
        self._forget_tab(thread_id, tab_id)
        if self._client is not None:
            await self._client.zrem(self._tabs_key(thread_id), self._member(tab_id))

    async def online(self, thread_id: str) -> int:
        assert self._client is not None
        return int(await self._client.zcount(self._tabs_key(thread_id), time.time(), "+inf"))
