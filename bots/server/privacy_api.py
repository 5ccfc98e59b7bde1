"""Admin endpoints for a customer's data requests: a copy of their thread, and forgetting it.

They share the admin API's bearer-token guard (bots.server.admin).
"""

from __future__ import annotations

from aiohttp import web

from bots.server.admin import RUNTIME, admin_guard


async def export(request: web.Request) -> web.Response:
    """A copy of everything about a thread, to hand to the customer who asked for it."""
    if (refused := admin_guard(request)) is not None:
        return refused
    thread_id = request.match_info["thread_id"]
    data = await request.app[RUNTIME].threads.export(thread_id)
    if data is None:
        return web.json_response({"error": f"no thread {thread_id}"}, status=404)
    return web.json_response(data)


async def forget(request: web.Request) -> web.Response:
    """Delete a thread and its identities for good; the answer carries the data, the only copy left."""
    if (refused := admin_guard(request)) is not None:
        return refused
    runtime = request.app[RUNTIME]
    thread_id = request.match_info["thread_id"]
    data = await runtime.threads.forget(thread_id)  # open chat windows of it are told it is gone
    if data is None:
        return web.json_response({"error": f"no thread {thread_id}"}, status=404)
    return web.json_response(
        {"deleted": True, "thread_id": data["thread_id"], "identities": data["identities"], "export": data}
    )


def routes() -> list[web.RouteDef]:
    return [
        web.get("/api/threads/{thread_id}/export", export),
        web.delete("/api/threads/{thread_id}", forget),
    ]
