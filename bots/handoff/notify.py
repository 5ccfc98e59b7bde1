"""The outgoing hand-off webhook: a signed JSON body, kept in the store until the team's endpoint took it.

A notification is written to the store's durable inbox (under :data:`OUTBOX`) in the turn that queued
the hand-off, and sent by a background task: the turn never waits for the team's endpoint, a failed
send is retried with growing pauses, and one still unsent when the server stops is sent after the next
start. Delivery is at least once (a crash between the endpoint's answer and the bookkeeping, or two
workers sweeping at once, can send one twice): receivers drop repeats by the ``id`` of the body.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from bots.store.base import WebhookInbox
from bots.types import Identity, InboxItem

log = logging.getLogger(__name__)

OUTBOX = "handoff-notify"  # the store's durable inbox this queue lives in (a name no channel has)
SIGNATURE_HEADER = "X-Threadline-Signature"
GIVE_UP_SECONDS = 24 * 3600.0  # a notification nobody took in a day is dropped, loudly


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>``: the timestamp lets receivers refuse replays."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


class Notifier:
    """Queues notifications durably and sends them in the background; ``start``/``stop`` with the server."""

    def __init__(
        self,
        outbox: WebhookInbox,
        url: str,
        secret: str,
        *,
        timeout_seconds: float = 10.0,
        first_retry_seconds: float = 2.0,
        max_retry_seconds: float = 300.0,
        foreign_grace_seconds: float = 0.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._outbox = outbox
        self.url = url
        self._secret = secret
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self.first_retry = first_retry_seconds
        self._max_retry = max_retry_seconds
        # With several workers, another worker's fresh notification is its own to send: this one sweeps it only
        # after this long (it was left behind by a stopped worker)
        self._grace = foreign_grace_seconds
        self._clock = clock
        self._mine: set[int] = set()
        self._next_try: dict[int, tuple[float, float]] = {}  # id -> (when, pause after that)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    async def enqueue(self, key: str, body: dict[str, Any], person: Identity | None) -> None:
        """Keep the notification in the store (a repeat of ``key`` is kept once) and wake the sender."""
        payload = json.dumps({**body, "id": key}, ensure_ascii=False, separators=(",", ":"))
        ids = await self._outbox.enqueue_inbound(OUTBOX, [InboxItem(key, payload, person)], now=self._clock())
        self._mine.update(i for i in ids if i is not None)
        self._wake.set()

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=self._timeout)
        self._task = asyncio.create_task(self._run(), name="handoff-notify")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                pause = await self._send_due()
            except Exception:  # the store was unreachable: try again later, never stop the sender
                log.exception("hand-off notifications: could not read the queue")
                pause = self._max_retry
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), pause)

    async def _send_due(self) -> float:
        """Send what is due; returns how long to sleep before the next due retry (or a sweep)."""
        now = self._clock()
        sleep = max(self._grace, 30.0)
        for item_id, payload, _person in await self._outbox.pending_inbound(OUTBOX, limit=100):
            body = json.loads(payload)
            age = now - float(body.get("queued_at", now))
            if self._grace and item_id not in self._mine and age < self._grace:
                sleep = min(sleep, self._grace - age)
                continue
            when, pause = self._next_try.get(item_id, (0.0, self.first_retry))
            if when > now:
                sleep = min(sleep, when - now)
                continue
            if await self._post(payload.encode()) or age > GIVE_UP_SECONDS:
                if age > GIVE_UP_SECONDS:
                    log.error("hand-off notification %s dropped: %s refused it for a day", body.get("id"), self.url)
                await self._outbox.finish_inbound([item_id], now=self._clock())
                self._next_try.pop(item_id, None)
                self._mine.discard(item_id)
                continue
            self._next_try[item_id] = (now + pause, min(pause * 2, self._max_retry))
            sleep = min(sleep, pause)
        return sleep

    async def _post(self, body: bytes) -> bool:
        assert self._session is not None
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature(self._secret, int(time.time()), body),
        }
        try:
            async with self._session.post(self.url, data=body, headers=headers) as response:
                if 200 <= response.status < 300:
                    return True
                log.warning("hand-off notification to %s: answered %s; retrying later", self.url, response.status)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            log.warning("hand-off notification to %s failed (%s); retrying later", self.url, exc or type(exc).__name__)
        return False
