"""Operator figures over HTTP (``/metrics`` for Prometheus, JSON for the inbox) and the hand-off webhook's sender.

Both want the admin token; agents read the same JSON at ``/inbox/api/figures`` with their inbox session.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from bots.handoff.report import MAX_DAYS, FiguresCollector, FiguresReader, days_param, figures_json
from bots.server.admin import RUNTIME, admin_guard

READER = web.AppKey("figures", FiguresReader)


async def metrics(request: web.Request) -> web.Response:
    if (refused := admin_guard(request)) is not None:
        return refused
    registry = CollectorRegistry(auto_describe=True)
    registry.register(FiguresCollector(await request.app[READER].read()))
    return web.Response(body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})


async def figures(request: web.Request) -> web.Response:
    """``?days=N`` (1 to 90, default 7): one entry a day up to today in the business hours' time zone."""
    if (refused := admin_guard(request)) is not None:
        return refused
    days = days_param(request.query.get("days", "7"))
    if days is None:
        return web.json_response({"error": f"days must be a whole number from 1 to {MAX_DAYS}"}, status=400)
    reader = request.app[READER]
    return web.json_response(figures_json(await reader.read(), reader.hours, days))


def install(app: web.Application) -> None:
    runtime = app[RUNTIME]
    desk = runtime.handoff
    assert desk is not None
    app[READER] = FiguresReader(runtime.store, desk.hours, desk.agents_online, clock=lambda: runtime.pipeline.clock())
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/api/handoff/figures", figures)

    async def notifier_lifetime(app: web.Application) -> AsyncIterator[None]:
        if desk.notifier is not None:
            await desk.notifier.start()  # sends what a previous run left unsent, too
        yield
        if desk.notifier is not None:
            await desk.notifier.stop()

    app.cleanup_ctx.append(notifier_lifetime)
