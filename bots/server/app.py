"""The aiohttp application: health, the connectors' routes, media, and a small admin API."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
from typing import AsyncIterator

from aiohttp import web
from aiohttp.typedefs import Handler

import bots
from bots.config import Config
from bots.errors import UserError
from bots.store.urls import redacted
from bots.pipeline import TurnOutcome
from bots.reminders import ReminderScheduler
from bots.runtime import Runtime, open_runtime
from bots.server.admin import MESSENGER, RUNTIME, WEB, admin_body, admin_guard
from bots.server.followups import install as install_followups
from bots.server.privacy_api import routes as privacy_routes
from bots.types import Identity, Text, ThreadEvent
from connectors.rest import RestConnector
from connectors.messenger.connector import MessengerConnector
from connectors.messenger.graph import GraphClient
from connectors.web import WebConnector

log = logging.getLogger(__name__)
async def health(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    return web.json_response({
        "status": "ok",
        "version": bots.__version__,
        "bot": runtime.bot.name,
        "languages": list(runtime.bot.languages),
        "store": runtime.config.store.split(":", 1)[0],
        "pid": os.getpid(),  # which worker answered, when several share the port
    })


async def thread_events(request: web.Request) -> web.Response:
    if (refused := admin_guard(request)) is not None:
        return refused
    runtime = request.app[RUNTIME]
    thread_id = request.match_info["thread_id"]
    try:
        after = max(0, int(request.query.get("after", "0")))
        limit = min(max(1, int(request.query.get("limit", "1000"))), 10000)
    except ValueError:
        return web.json_response({"error": "after and limit must be integers"}, status=400)
    snapshot = await runtime.store.load(thread_id)
    if snapshot is None:
        return web.json_response({"error": f"no thread {thread_id}"}, status=404)
    events = await runtime.store.events(thread_id, after=after, limit=limit)
    identities = await runtime.store.identities(thread_id)
    return web.json_response({
        "thread_id": thread_id,
        "version": snapshot.version,
        "state": snapshot.state,
        "identities": [{"channel": i.channel, "user_id": i.user_id} for i in identities],
        "events": [{"seq": e.seq, "kind": e.event.kind, "timestamp": e.event.timestamp, "channel": e.event.channel,
                    "data": e.event.data} for e in events],
    })


async def find_thread(request: web.Request) -> web.Response:
    """Which thread a channel's user is on (e.g. the REST ``sender``), to look at it or release a hand-off."""
    if (refused := admin_guard(request)) is not None:
        return refused
    runtime = request.app[RUNTIME]
    channel, user_id = request.query.get("channel", ""), request.query.get("user_id", "")
    if not channel or not user_id:
        return web.json_response({"error": "give channel and user_id, e.g. ?channel=rest&user_id=ana"}, status=400)
    thread_id = await runtime.store.find(Identity(channel, user_id))
    if thread_id is None:
        return web.json_response({"error": f"no thread for {channel} user {user_id}"}, status=404)
    return web.json_response({"thread_id": thread_id})


async def release_handoff(request: web.Request) -> web.Response:
    if (refused := admin_guard(request)) is not None:
        return refused
    runtime = request.app[RUNTIME]
    thread_id = request.match_info["thread_id"]
    released = await runtime.pipeline.release_handoff(thread_id, by="admin-api")
    if not released:
        return web.json_response({"error": f"thread {thread_id} is not handed off"}, status=409)
    return web.json_response({"thread_id": thread_id, "handoff": False})


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """An unexpected failure is logged with its traceback and answered in JSON, like every other error."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == "application/json":
            raise
        return web.json_response({"error": exc.reason}, status=exc.status)
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return web.json_response({"error": "internal error; the failure is in the server log"}, status=500)


async def send_message(request: web.Request) -> web.Response:
    """A message to a thread outside a turn: a person's reply (``by``) or the bot's, under channel policy."""
    body, refused = await admin_body(request)
    if refused is not None:
        return refused
    text, by, tag = body.get("text") if isinstance(body, dict) else None, None, None
    if isinstance(body, dict):
        by, tag = body.get("by"), body.get("tag")
    if not isinstance(text, str) or not text.strip() or (by is not None and not isinstance(by, str)) or (
            tag is not None and not isinstance(tag, str)):
        return web.json_response({"error": "give 'text', and optionally 'by' (a person's name) and 'tag'"},
                                 status=400)
    thread_id = request.match_info["thread_id"]
    runtime = request.app[RUNTIME]
    snapshot = await runtime.store.load(thread_id)
    if snapshot is None:
        return web.json_response({"error": f"no thread {thread_id}"}, status=404)
    if MESSENGER in request.app and snapshot.state.get("channel", "").startswith("messenger"):
        result = await request.app[MESSENGER].send_to_thread(thread_id, [Text(text)], by_person=by, tag=tag)
        return web.json_response(result, status=200 if result["sent"] else 409)
    if WEB in request.app:  # the website: recorded, and shown live in every open tab (or on the next visit)
        result = await request.app[WEB].send_to_thread(thread_id, [Text(text)], by_person=by)
        return web.json_response(result)
    return web.json_response({"error": "no channel to send this thread's messages on"}, status=409)


class OutsideTurnDelivery:
    """Where a turn nobody is waiting for (a reminder firing) is sent: the customer's current channel.

    Messenger when they were last there and its policy allows it now (the
    24-hour window, or the flow's message tag); otherwise the website, live
    in open tabs or shown on the next visit. On the REST channel the replies
    stay in the thread's history.
    """

    def __init__(self, app: web.Application) -> None:
        self.app = app

    async def __call__(self, outcome: TurnOutcome) -> list[ThreadEvent] | None:
        if not outcome.outbound:
            return None
        runtime = self.app[RUNTIME]
        snapshot = await runtime.store.load(outcome.thread_id)
        state = snapshot.state if snapshot else {}
        events: list[ThreadEvent] = []
        if MESSENGER in self.app and str(state.get("channel", "")).startswith("messenger"):
            result, events = await self.app[MESSENGER].send_outside_turn(outcome.thread_id, state, outcome.outbound,
                                                                         tag=outcome.message_tag)
            if result["sent"]:
                return events
        if WEB in self.app and any(i.channel == "web" for i in await runtime.store.identities(outcome.thread_id)):
            await self.app[WEB].deliver(outcome)
        return events or None


def create_app(runtime: Runtime) -> web.Application:
    """The application for an opened runtime; the caller owns the runtime's lifetime."""
    config = runtime.config
    app = web.Application(client_max_size=1024 * 1024, middlewares=[json_errors])
    app[RUNTIME] = runtime
    app.router.add_get("/health", health)
    app.router.add_get("/api/threads", find_thread)
    app.router.add_get("/api/threads/{thread_id}", thread_events)
    app.router.add_post("/api/threads/{thread_id}/handoff/release", release_handoff)
    app.add_routes(privacy_routes())
    install_followups(app)
    media = config.bot / "media"
    if media.is_dir():
        app.router.add_static("/media/", media, show_index=False, follow_symlinks=False)
    if config.connectors.rest.enabled:
        rest = RestConnector(runtime.pipeline, token=config.connectors.rest.token,
                             max_chars=config.server.max_message_chars, linker=runtime.linker)
        app.add_routes(rest.routes())
    if config.connectors.web.enabled:
        app[WEB] = WebConnector(runtime)
        app.add_routes(app[WEB].routes())

        app.on_shutdown.append(lambda app: app[WEB].close_connections())

        async def hub_lifetime(app: web.Application) -> AsyncIterator[None]:
            await app[WEB].hub.start()  # with a shared store: frames from and to the other workers
            yield
            await app[WEB].hub.stop()

        app.cleanup_ctx.append(hub_lifetime)
    if config.connectors.messenger.enabled:
        messenger = MessengerConnector(runtime, GraphClient(config.connectors.messenger))
        app[MESSENGER] = messenger
        app.add_routes(messenger.routes())

        async def messenger_lifetime(app: web.Application) -> AsyncIterator[None]:
            async with messenger.graph:
                await messenger.start()  # what a previous run stored but did not process
                yield
                await messenger.stop()

        app.cleanup_ctx.append(messenger_lifetime)
    app.router.add_post("/api/threads/{thread_id}/messages", send_message)

    async def reminders_lifetime(app: web.Application) -> AsyncIterator[None]:
        scheduler = ReminderScheduler(runtime.pipeline, OutsideTurnDelivery(app))
        await scheduler.start()
        yield
        await scheduler.stop()

    app.cleanup_ctx.append(reminders_lifetime)
    return app


async def serve(config: Config, host: str, port: int, ready: "asyncio.Event | None" = None, *,
                reuse_port: bool = False) -> None:
    """Run the server until cancelled (Ctrl-C or SIGTERM), then shut down cleanly."""
    async with open_runtime(config) as runtime:
        # Everything loaded so far (bot, models, libraries) lives as long as the process: move it
        # out of the garbage collector's generations so collections stop rescanning it.
        gc.collect()
        gc.freeze()
        # A turn allocates thousands of short-lived objects; the default threshold (700) ran a
        # collection every few messages. Fewer, equally cheap young collections cut the latency tail.
        gc.set_threshold(20_000, 20, 20)
        # turns in progress get 20 s to finish when stopping (a supervisor waits 30 s before it kills)
        runner = web.AppRunner(create_app(runtime), access_log=None, shutdown_timeout=20.0)
        await runner.setup()
        site = web.TCPSite(runner, host, port, reuse_port=reuse_port or None)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        log.info("Threadline %s serving bot %r on http://%s:%s (store %s)", bots.__version__, runtime.bot.name,
                 host, port, redacted(config.store))
        if ready is not None:
            ready.set()
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()
