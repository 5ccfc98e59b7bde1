"""The live bus on PostgreSQL: LISTEN/NOTIFY for frames, an unlogged table of leases for presence.

NOTIFY carries at most 8000 bytes, and a carousel frame can be larger: such
a frame is put in an unlogged table and the notification carries its id.
All workers listen on one channel and keep only frames of threads they
have tabs of: simple, and cheap at the rate chat frames come.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import asyncpg

from bots.errors import UserError
from bots.live.bus import PRESENCE_RENEW_SECONDS, PRESENCE_TTL_SECONDS, LiveBus, OnFrame, cancel_all
from bots.store.postgres.options import keep_session
from bots.store.urls import redacted, split_options

log = logging.getLogger(__name__)
CHANNEL = "threadline_live"
LISTENER_PING_SECONDS = 10.0
NOTIFY_LIMIT = 7000  # bytes of payload sent inline; PostgreSQL's limit is 8000
SCHEMA_LOCK = 0x7468726561646C6E  # "threadln": serialises creating the tables when workers start together
SCHEMA = """
CREATE UNLOGGED TABLE IF NOT EXISTS live_frames (
    id         BIGSERIAL PRIMARY KEY,
    body       TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL
);
CREATE UNLOGGED TABLE IF NOT EXISTS live_tabs (
    thread_id  TEXT NOT NULL,
    member     TEXT NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (thread_id, member)
);
"""


class PostgresLiveBus(LiveBus):
    def __init__(self, url: str) -> None:
        super().__init__()
        self.url, _options = split_options(url)
        self._pool: asyncpg.Pool | None = None
        self._listener: asyncpg.Connection | None = None
        self._watched: set[str] = set()
        self._on_frame: OnFrame | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._inbox: asyncio.Queue[str] = asyncio.Queue()  # notifications in arrival order, handled one by one

    def _member(self, tab_id: str) -> str:
        return f"{self.worker_id}|{tab_id}"

    async def start(self, on_frame: OnFrame) -> None:
        self._on_frame = on_frame
        try:
            self._pool = await asyncpg.create_pool(self.url, min_size=1, max_size=4, reset=keep_session)
        except (OSError, asyncpg.PostgresError) as exc:
            raise UserError(f"live bus {redacted(self.url)}: cannot connect: {exc}") from None
        async with self._pool.acquire() as connection, connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock($1)", SCHEMA_LOCK)
            await connection.execute(SCHEMA)
        await self._listen()
        self._tasks = [
            asyncio.create_task(self._deliver(), name="live-bus-deliver"),
            asyncio.create_task(self._maintain(), name="live-bus-presence"),
        ]

    async def _listen(self) -> None:
        self._listener = await asyncpg.connect(self.url)
        await self._listener.add_listener(CHANNEL, self._notified)

    def _notified(self, _connection: Any, _pid: int, _channel: str, payload: object) -> None:
        self._inbox.put_nowait(str(payload))  # NOTIFY's payload is text

    async def stop(self) -> None:
        await cancel_all(self._tasks)
        self._tasks = []
        if self._listener is not None and not self._listener.is_closed():
            await self._listener.close()
        if self._pool is not None:
            try:
                await self._pool.execute("DELETE FROM live_tabs WHERE member LIKE $1", f"{self.worker_id}|%")
            except (OSError, asyncpg.PostgresError) as exc:  # their leases run out by themselves
                log.warning("live bus: could not withdraw this worker's tabs: %s", exc)
            await self._pool.close()
        self._pool = self._listener = None
        self._tabs.clear()

    async def _deliver(self) -> None:
        while True:
            payload = await self._inbox.get()
            try:
                if payload.startswith("@"):  # a large frame, stored in the table: "@<id>:<thread>"
                    frame_id, _, thread_id = payload[1:].partition(":")
                    if thread_id not in self._watched:
                        continue
                    assert self._pool is not None
                    payload = (
                        await self._pool.fetchval("SELECT body FROM live_frames WHERE id = $1", int(frame_id)) or ""
                    )
                body = json.loads(payload)
                thread_id = body["thread"]
                if body.get("origin") == self.worker_id or thread_id not in self._watched:
                    continue
                if self._on_frame is not None:
                    await self._on_frame(thread_id, body["frame"])
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("live bus: delivering a notification failed")

    async def _maintain(self) -> None:
        """Reconnect a lost listener; renew this worker's tab leases; drop old large frames."""
        last_renew = last_ping = time.monotonic()
        while True:
            await asyncio.sleep(1.0)
            try:
                if self._listener is None or self._listener.is_closed():
                    log.warning("live bus: the listening connection was lost; reconnecting")
                    await self._listen()
                elif time.monotonic() - last_ping >= LISTENER_PING_SECONDS:
                    # a connection a firewall dropped silently looks open: ask it something
                    last_ping = time.monotonic()
                    try:
                        await self._listener.fetchval("SELECT 1", timeout=LISTENER_PING_SECONDS / 2)
                    except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                        log.warning("live bus: the listening connection does not answer (%s); reconnecting", exc)
                        self._listener.terminate()
                        await self._listen()
                if time.monotonic() - last_renew >= PRESENCE_RENEW_SECONDS and self._pool is not None:
                    last_renew = last_ping = time.monotonic()
                    now = time.time()
                    await self._pool.execute(
                        "UPDATE live_tabs SET expires_at = $1 WHERE member LIKE $2",
                        now + PRESENCE_TTL_SECONDS,
                        f"{self.worker_id}|%",
                    )
                    await self._pool.execute("DELETE FROM live_tabs WHERE expires_at < $1", now)
                    await self._pool.execute("DELETE FROM live_frames WHERE created_at < $1", now - 60)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("live bus: maintenance failed (%s); trying again", exc)

    async def publish(self, thread_id: str, frame: dict[str, Any]) -> None:
        assert self._pool is not None, "start the bus first"
        body = json.dumps({"origin": self.worker_id, "thread": thread_id, "frame": frame}, ensure_ascii=False)
        async with self._pool.acquire() as connection:
            if len(body.encode()) > NOTIFY_LIMIT:
                frame_id = await connection.fetchval(
                    "INSERT INTO live_frames (body, created_at) VALUES ($1, $2) RETURNING id", body, time.time()
                )
                body = f"@{frame_id}:{thread_id}"
            await connection.execute("SELECT pg_notify($1, $2)", CHANNEL, body)

    async def watch(self, thread_id: str) -> None:
        self._watched.add(thread_id)

    async def unwatch(self, thread_id: str) -> None:
        self._watched.discard(thread_id)

    async def tab_opened(self, thread_id: str, tab_id: str) -> None:
        assert self._pool is not None
        self._remember_tab(thread_id, tab_id)
        await self._pool.execute(
            "INSERT INTO live_tabs (thread_id, member, expires_at) VALUES ($1, $2, $3) "
            "ON CONFLICT (thread_id, member) DO UPDATE SET expires_at = excluded.expires_at",
            thread_id,
            self._member(tab_id),
            time.time() + PRESENCE_TTL_SECONDS,
        )

    async def tab_closed(self, thread_id: str, tab_id: str) -> None:
        self._forget_tab(thread_id, tab_id)
        if self._pool is not None:
            await self._pool.execute(
                "DELETE FROM live_tabs WHERE thread_id = $1 AND member = $2", thread_id, self._member(tab_id)
            )

    async def online(self, thread_id: str) -> int:
        assert self._pool is not None
        return int(
            await self._pool.fetchval(
                "SELECT count(*) FROM live_tabs WHERE thread_id = $1 AND expires_at > $2", thread_id, time.time()
            )
        )
