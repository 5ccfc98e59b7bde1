"""The agent inbox's backend: agent accounts and sessions, the conversation lists, the thread view, the
agents' actions and replies, and live updates across workers (docs/inbox.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from bots.inbox.accounts import Accounts
from bots.inbox.live import AgentFeed
from bots.inbox.routes import InboxAPI
from bots.live import open_live_bus
from bots.runtime import Runtime
from bots.store.factory import is_shared
from bots.threads.desk import Desk, Row


def install(app: web.Application, runtime: Runtime) -> None:
    """Mount the inbox's API on the server's application and run its live feed with it."""
    feed = AgentFeed(open_live_bus(runtime.config.store))
    desk = Desk(runtime.threads, sole_writer=not is_shared(runtime.config.store))  # the embedded store's one process
    https = runtime.config.public_url.startswith("https://")
    api = InboxAPI(runtime.threads, desk, Accounts(desk.records), feed, https=https)

    async def tell(thread_id: str, row: Row) -> None:
        frame: dict[str, Any] = {"type": "conversation", "thread_id": thread_id}
        frame.update({k: row.get(k) for k in ("status", "assignee", "queued_at")})
        await feed.publish(frame)

    desk.listeners.append(tell)
    app.add_routes(api.routes())

    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        await feed.start()
        yield
        await feed.stop()

    app.cleanup_ctx.append(lifetime)
