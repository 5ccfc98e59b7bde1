"""The agent inbox: agent accounts and sessions, the conversation lists, the thread view, the agents' actions
and replies, live updates across workers (docs/inbox.md), and the ``/inbox`` web page served on them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from bots.handoff.report import FiguresReader
from bots.inbox.accounts import Accounts
from bots.inbox.live import AgentFeed
from bots.inbox.page import routes as page_routes
from bots.inbox.routes import InboxAPI
from bots.live import open_live_bus
from bots.runtime import Runtime
from bots.store.factory import is_shared
from bots.threads.desk import Desk, Row


def install(app: web.Application, runtime: Runtime, figures: FiguresReader | None = None) -> None:
    """Mount the inbox's page and API on the server's application and run its live feed with it."""
    desk = Desk(runtime.threads, sole_writer=not is_shared(runtime.config.store))  # the embedded store's one process
    handoff = runtime.handoff
    feed = AgentFeed(open_live_bus(runtime.config.store), handoff.presence if handoff is not None else None)
    https = runtime.config.public_url.startswith("https://")
    canned = runtime.config.handoff.canned_replies
    api = InboxAPI(runtime.threads, desk, Accounts(desk.records), feed, https=https, canned=canned, figures=figures)

    async def tell(thread_id: str, row: Row) -> None:
        frame: dict[str, Any] = {"type": "conversation", "thread_id": thread_id}
        frame.update({k: row.get(k) for k in ("status", "assignee", "queued_at")})
        await feed.publish(frame)

    desk.listeners.append(tell)
    app.add_routes(api.routes())
    app.add_routes(page_routes())

    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        await feed.start()
        yield
        await feed.stop()

    app.cleanup_ctx.append(lifetime)
