"""The aiohttp application: health, the connectors' routes, media, and a small admin API."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
from collections.abc import AsyncIterator

from aiohttp import web
from aiohttp.typedefs import Handler

import bots
from bots.config import Config
from bots.errors import UserError
from bots.inbox import install as install_inbox
from bots.reminders import ReminderScheduler
from bots.runtime import Runtime, open_runtime
from bots.server.admin import CHANNELS, RUNTIME, admin_body, admin_guard
from bots.server.client_errors import quiet_client_errors
from bots.server.followups import install as install_followups
from bots.server.handoff_api import READER as FIGURES
from bots.server.handoff_api import install as install_handoff
from bots.server.presentation import presentation
from bots.server.privacy_api import routes as privacy_routes
from bots.server.timeouts import body_deadline, runner_options
from bots.store.urls import redacted
from bots.types import Identity, Text
from connectors.base import Channel, ChannelContext
from connectors.registry import channel_specs

log = logging.getLogger(__name__)


async def health(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    return web.json_response(
        {
            "status": "ok",
            "version": bots.__version__,
            "bot": runtime.bot.name,
            "languages": list(runtime.bot.languages),
            "store": runtime.config.store.split(":", 1)[0],
            "pid": os.getpid(),  # which worker answered, when several share the port
            # "provisional" on a first start while the full model trains, then "full"
            "nlu": runtime.nlu.stage if runtime.nlu is not None else "full",
            # false while start-up's background work goes on (the full model, the other languages' tokenizers)
            "warm": runtime.warm,
        }
    )


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
    history = await runtime.threads.history(thread_id, after=after, limit=limit)
    if history is None:
        return web.json_response({"error": f"no thread {thread_id}"}, status=404)
    events = history.events
    identities = await runtime.threads.identities(thread_id)
    return web.json_response(
        {
            "thread_id": thread_id,
            "version": history.version,
            "state": history.state,
            "identities": [{"channel": i.channel, "user_id": i.user_id} for i in identities],
            "events": [e.to_json() for e in events],
        }
    )


async def find_thread(request: web.Request) -> web.Response:
    """Which thread a channel's user is on (e.g. the REST ``sender``), to look at it or release a hand-off."""
    if (refused := admin_guard(request)) is not None:
        return refused
    runtime = request.app[RUNTIME]
    channel, user_id = request.query.get("channel", ""), request.query.get("user_id", "")
    if not channel or not user_id:
        return web.json_response({"error": "give channel and user_id, e.g. ?channel=rest&user_id=ana"}, status=400)
    thread_id = await runtime.threads.find(Identity(channel, user_id))
    if thread_id is None:
        return web.json_response({"error": f"no thread for {channel} user {user_id}"}, status=404)
    return web.json_response({"thread_id": thread_id})


async def release_handoff(request: web.Request) -> web.Response:
    if (refused := admin_guard(request)) is not None:
        return refused
    runtime = request.app[RUNTIME]
    thread_id = request.match_info["thread_id"]
    released = await runtime.threads.release_handoff(thread_id, by="admin-api")
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
    except ConnectionError:  # the client went away mid-request: nothing failed here, and nobody hears an answer
        log.info("%s %s: the client disconnected before the request was read", request.method, request.path)
        return web.Response(status=400)
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
    if (
        not isinstance(text, str)
        or not text.strip()
        or (by is not None and not isinstance(by, str))
        or (tag is not None and not isinstance(tag, str))
    ):
        return web.json_response({"error": "give 'text', and optionally 'by' (a person's name) and 'tag'"}, status=400)
    thread_id = request.match_info["thread_id"]
    result = await request.app[RUNTIME].threads.send(thread_id, [Text(text)], by_person=by, tag=tag)
    if result is None:
        return web.json_response({"error": f"no thread {thread_id}"}, status=404)
    status = {"delivered": 200, "queued": 202}.get(result["status"], 409)
    return web.json_response(result, status=status)


def build_channels(runtime: Runtime) -> list[Channel]:
    """The channels config.yaml turns on, built from the registry (connectors/registry.py)."""
    config = runtime.config
    channels = []
    for spec in channel_specs():
        section = getattr(config.connectors, spec.name)
        if spec.enabled(section):
            channels.append(
                spec.channel(
                    ChannelContext(
                        threads=runtime.threads,
                        config=section,
                        public_url=config.public_url,
                        max_message_chars=config.server.max_message_chars,
                        data_dir=config.data_dir,
                        live=runtime.live_bus,
                        site_url=config.site_url,
                        messenger_page=config.linking.messenger_page,
                        bot=presentation(runtime.bot),
                    )
                )
            )
    return channels


def create_app(runtime: Runtime) -> web.Application:
    """The application for an opened runtime; the caller owns the runtime's lifetime."""
    config = runtime.config
    quiet_client_errors()
    app = web.Application(
        client_max_size=1024 * 1024,
        middlewares=[json_errors, body_deadline(config.server.body_timeout_seconds)],
    )
    app[RUNTIME] = runtime
    app.router.add_get("/health", health)
    app.router.add_get("/api/threads", find_thread)
    app.router.add_get("/api/threads/{thread_id}", thread_events)
    app.router.add_post("/api/threads/{thread_id}/handoff/release", release_handoff)
    app.add_routes(privacy_routes())
    install_followups(app)
    install_handoff(app)
    install_inbox(app, runtime, figures=app[FIGURES])
    media = config.bot / "media"
    if media.is_dir():
        app.router.add_static("/media/", media, show_index=False, follow_symlinks=False)
    channels = build_channels(runtime)
    app[CHANNELS] = {channel.name: channel for channel in channels}
    runtime.threads.attach(channels)
    for channel in channels:
        app.add_routes(channel.routes())

    async def channels_lifetime(app: web.Application) -> AsyncIterator[None]:
        for channel in channels:
            await channel.start()  # a webhook channel processes what a previous run stored
        yield
        for channel in channels:
            await channel.stop()

    app.cleanup_ctx.append(channels_lifetime)
    app.on_shutdown.append(lambda app: _closing(channels))
    app.router.add_post("/api/threads/{thread_id}/messages", send_message)

    async def reminders_lifetime(app: web.Application) -> AsyncIterator[None]:
        scheduler = ReminderScheduler(runtime.threads)
        await scheduler.start()
        yield
        await scheduler.stop()

    app.cleanup_ctx.append(reminders_lifetime)
    return app


async def _closing(channels: list[Channel]) -> None:
    for channel in channels:
        await channel.closing()


async def serve(
    config: Config, host: str, port: int, ready: asyncio.Event | None = None, *, reuse_port: bool = False
) -> None:
    """Run the server until cancelled (Ctrl-C or SIGTERM), then shut down cleanly."""
    async with open_runtime(config, serve_provisional=True) as runtime:
        # Everything loaded so far (bot, models, libraries) lives as long as the process: move it
        # out of the garbage collector's generations so collections stop rescanning it.
        gc.collect()
        gc.freeze()
        # A turn allocates thousands of short-lived objects; the default threshold (700) ran a
        # collection every few messages. Fewer, equally cheap young collections cut the latency tail.
        gc.set_threshold(20_000, 20, 20)
        # turns in progress get 20 s to finish when stopping (a supervisor waits 30 s before it kills)
        runner = web.AppRunner(
            create_app(runtime), access_log=None, shutdown_timeout=20.0, **runner_options(config.server)
        )
        await runner.setup()
        site = web.TCPSite(runner, host, port, reuse_port=reuse_port or None)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        log.info(
            "Threadline %s serving bot %r on http://%s:%s (store %s)",
            bots.__version__,
            runtime.bot.name,
            host,
            port,
            redacted(config.store),
        )
        if ready is not None:
            ready.set()
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()
