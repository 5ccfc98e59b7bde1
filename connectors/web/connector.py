"""The widget's server side: one WebSocket per browser tab, an HTTP fallback, and the files it loads.

Client frames (JSON): ``hello`` {visitor_id, locale?, customer?: {id, signature}, after?}, then
``message`` {id, text, display?} and ``event`` {id, name, data?}. Server frames: ``ready``
{visitor_id, messages, started}, ``messages`` {messages}, ``ack`` {id, duplicate} and ``error``
{code, message, id?}. Every tab of a thread gets every user and bot message (``messages``), each
with the sequence number it has in the thread's log, so tabs order and de-duplicate by it. Client
message ids make a message sent twice (after a reconnect) count once.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from bots.linking.buttons import site_link
from bots.types import Identity, Inbound, Outbound, StoredEvent, TurnOutcome, loads_text
from connectors.base import (
    Channel,
    ChannelContext,
    Reach,
    RenderLimits,
    Sent,
    ThreadView,
)
from connectors.web import demo, trypage
from connectors.web.address import client_address, networks
from connectors.web.assets import Asset
from connectors.web.hub import LiveHub, Send
from connectors.web.identity import (
    CUSTOMER_CHANNEL,
    WEB_CHANNEL,
    IdentityError,
    check_customer,
    check_visitor_id,
)
from connectors.web.ratelimit import RateLimiter
from connectors.web.render import SHOWN_KINDS, chat_items
from connectors.web.texts import texts_asset

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
MAX_FRAME_BYTES = 64 * 1024
SEND_TIMEOUT_SECONDS = 10.0
FINISH_SECONDS = 30.0  # a closed tab's frames still being handled get this long to finish
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_EVENT_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
LINK_CONFIRM = "Continue your Messenger chat here? It will be joined with the chat you already have on this website."
# What the widget shows when a link from Messenger cannot continue the chat (flows may add their own words).
LINK_REFUSALS = {
    "malformed": "This link is not valid, so your chat could not be continued here.",
    "forged": "This link is not valid, so your chat could not be continued here.",
    "expired": "This link has expired. Ask for a new one in Messenger to continue your chat here.",
    "replayed": "This link was already used. Ask for a new one in Messenger to continue your chat here.",
    "mismatched": "This link is not meant for this website's chat.",
    "gone": "The conversation this link belongs to no longer exists.",
}


class FrameError(ValueError):
    def __init__(self, code: str, message: str, frame_id: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.code, self.message, self.frame_id, self.extra = code, message, frame_id, extra

    def frame(self) -> dict[str, Any]:
        frame: dict[str, Any] = {"type": "error", "code": self.code, "message": self.message, **self.extra}
        if self.frame_id is not None:
            frame["id"] = self.frame_id
        return frame


class TabGone(ConnectionResetError):
    """The tab's socket closed or broke: what was meant for it has nowhere to go, and nothing failed here."""


@dataclass
class Session:
    """One browser tab after its hello: a signed-in customer speaks as the customer, others as the visitor."""

    visitor_id: str
    thread_id: str
    locale: str | None
    customer_id: str | None = None
    seen_version: int = 0  # the thread's version when its history was read for the tab

    @property
    def identity(self) -> Identity:
        if self.customer_id is not None:
            return Identity(CUSTOMER_CHANNEL, self.customer_id)
        return Identity(WEB_CHANNEL, self.visitor_id)


class WebChannel(Channel):
    name = WEB_CHANNEL
    identity_channels = (WEB_CHANNEL, CUSTOMER_CHANNEL)
    limits = RenderLimits()  # the widget shows every message of the neutral model as it is
    mirrors = True  # open chat windows show the whole thread, also what happens on Messenger

    def __init__(self, context: ChannelContext, hub: LiveHub | None = None) -> None:
        self.threads = context.threads
        self.config = context.config
        self.max_chars = context.max_message_chars
        self.proxies = networks(self.config.trusted_proxies)
        self.site_url = context.site_url
        self.bot = context.bot
        self.texts = texts_asset(self.config.widget_texts, context.bot.languages, context.bot.default_language)
        self.hub = hub or LiveHub(context.live)
        self.limiter = RateLimiter(self.config.rate_limit.messages, self.config.rate_limit.per_seconds)
        # site events (page views) have their own, larger allowance: browsing must not silence typing
        self.event_limiter = RateLimiter(self.config.rate_limit.messages * 3, self.config.rate_limit.per_seconds)
        # per network address, so fresh visitor ids do not buy fresh allowances (generous: offices share one)
        self.address_limiter = RateLimiter(self.config.rate_limit.messages * 10, self.config.rate_limit.per_seconds)
        public = re.match(r"^https?://[^/]+", context.public_url)
        self.allowed_origins = set(self.config.allowed_origins) | ({public.group(0)} if public else set())
        self._sockets: set[web.WebSocketResponse] = set()
        self._closing: set[asyncio.Future[Any]] = set()
        self._workers: set[asyncio.Task[None]] = set()  # each open tab's frame worker

    @property
    def open_sockets(self) -> int:
        """Widget WebSockets this worker holds open right now."""
        return len(self._sockets)

    async def start(self) -> None:
        await self.hub.start()  # with a shared store: frames from and to the other workers

    async def stop(self) -> None:
        if self._workers:  # tabs that closed as the server stopped: their turns finish before the hub stops
            _done, late = await asyncio.wait(self._workers, timeout=FINISH_SECONDS)
            for worker in late:
                worker.cancel()
            if late:
                await asyncio.wait(late)
        await self.hub.stop()

    async def closing(self) -> None:
        """The server is stopping: tell open tabs to go (they reconnect, to another worker if there is one)
        instead of the shutdown waiting for every tab to leave by itself."""
        for ws in list(self._sockets):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")

    # ------------------------------------------------------------------ routes

    def routes(self) -> list[web.RouteDef]:
        routes = [
            web.get("/widget.js", Asset.read(STATIC / "widget.js", "application/javascript").handler()),
            web.get("/widget.css", Asset.read(STATIC / "widget.css", "text/css").handler()),
            web.get("/widget-texts.json", self.texts.handler()),
            web.post("/web/api/hello", self.http_hello),
            web.post("/web/api/send", self.http_send),
            web.get("/web/api/poll", self.http_poll),
            web.post("/web/api/link", self.http_link),
            web.options("/web/api/{tail:.*}", self.preflight),
        ]
        if self.config.websocket:
            routes.append(web.get("/web/ws", self.websocket))
        if self.config.demo_page:  # the shop only for the demo bot: any other bot gets its own "Try" page
            routes += (demo if self.bot.demo_shop else trypage).routes(self.bot)
        return routes

    # ------------------------------------------------------------------ origins

    def origin_allowed(self, request: web.Request) -> bool:
        origin = request.headers.get("Origin")
        if origin is None or "*" in self.allowed_origins or origin in self.allowed_origins:
            return True
        return origin == f"{request.scheme}://{request.host}"  # the bot server's own pages

    def _cors(self, request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if origin is not None:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
        return response

    def _refuse_origin(self, request: web.Request) -> web.StreamResponse:
        # CORS headers on the refusal itself, so the widget on that page can show why it cannot chat.
        log.warning("refused widget connection from origin %s", request.headers.get("Origin"))
        return self._cors(
            request,
            web.json_response(
                {
                    "type": "error",
                    "code": "origin_refused",
                    "message": "This website is not allowed to use this chat.",
                    "error": "origin not allowed: add it to connectors.web.allowed_origins",
                },
                status=403,
            ),
        )

    async def preflight(self, request: web.Request) -> web.StreamResponse:
        if not self.origin_allowed(request):
            return self._refuse_origin(request)
        response = web.Response(
            status=204,
            headers={
                "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                "Access-Control-Allow-Headers": "Content-Type",
                "Access-Control-Max-Age": "600",
            },
        )
        return self._cors(request, response)

    # ------------------------------------------------------------------ shared logic

    def address(self, request: web.Request) -> str | None:
        """The visitor's network address (through trusted proxies): the per-address allowance's key."""
        return client_address(request, self.proxies)

    def check_address(self, address: str | None) -> None:
        if address and not self.address_limiter.allow(address):
            wait = max(1, round(self.address_limiter.retry_after(address)))
            raise FrameError(
                "rate_limited", f"Too many chats from your network. Please wait {wait} seconds.", retry_after=wait
            )

    async def hello(self, frame: dict[str, Any], address: str | None = None) -> tuple[Session, dict[str, Any]]:
        self.check_address(address)
        try:
            visitor_id = check_visitor_id(frame.get("visitor_id"))
            customer_id = check_customer(self.config.identity_secret, frame.get("customer"))
        except IdentityError as exc:
            raise FrameError("identity_refused", str(exc)) from None
        locale = frame.get("locale")
        locale = locale[:35] if isinstance(locale, str) else None
        after = frame.get("after", 0)
        if not isinstance(after, int) or after < 0:
            raise FrameError("bad_frame", "'after' must be a non-negative integer")
        identity = Identity(CUSTOMER_CHANNEL, customer_id) if customer_id else Identity(WEB_CHANNEL, visitor_id)
        link = await self._redeem(frame.get("link"), identity, confirmed=frame.get("confirm") is True)
        thread_id = await self.threads.open_thread(
            Identity(WEB_CHANNEL, visitor_id),
            signed_in=Identity(CUSTOMER_CHANNEL, customer_id) if customer_id else None,
        )
        if link is not None and link["status"] != "confirm" and not link.get("again"):
            # flows greet with context ("still looking at ..."), or explain a refused link, in the bot's words
            event = "thread_linked" if link["status"] == "linked" else "link_refused"
            data = {k: v for k, v in link.items() if k in ("from", "merged", "reason")}
            await self.threads.turn(
                Inbound(identity, "event", event=event, data=data, language_hint=locale, timestamp=time.time()),
                deliver=self.deliver,
            )
        history = await self.threads.history(thread_id, kinds=SHOWN_KINDS, limit=self.config.history_limit)
        version, state = (history.version, history.state) if history else (0, {})
        epoch = thread_epoch(thread_id, state)
        # A tab that knew another thread or an older log (merged, forgotten) loads the history afresh.
        known = frame.get("epoch")
        reset = bool(after) and ((known is not None and known != epoch) or after > version)
        if after and not reset:
            since = await self.threads.history(thread_id, after=after, limit=self.config.history_limit * 20)
            messages = chat_items(since.events if since else ())[-self.config.history_limit :]
        else:
            messages = chat_items(history.events if history else ())
        started = bool(history and history.events)  # the shown kinds' tail: a message was shown
        session = Session(visitor_id, thread_id, locale, customer_id, version)
        ready = {
            "type": "ready",
            "visitor_id": visitor_id,
            "messages": messages,
            "started": started,
            "language": state.get("language"),
            "continue_in_messenger": self.threads.link_offered("messenger"),
            "epoch": epoch,
            "reset": reset,
        }
        if link is not None:
            ready["link"] = link
        return session, ready

    async def _redeem(self, token: object, identity: Identity, *, confirmed: bool) -> dict[str, Any] | None:
        """A link from Messenger ("Continue on the website"): this browser (or customer) joins that thread.

        A browser that already has a conversation (or a signed-in customer)
        is asked first: the widget shows the question and says hello again
        with ``confirm: true``.
        """
        if token is None or token == "":
            return None
        if not isinstance(token, str):
            return {
                "status": "refused",
                "from": "messenger",
                "reason": "malformed",
                "message": LINK_REFUSALS["malformed"],
            }
        result = await self.threads.redeem_link(token, identity, to="web", confirmed=confirmed)
        if result.status == "refused":
            return {
                "status": "refused",
                "from": "messenger",
                "reason": result.reason,
                "message": LINK_REFUSALS.get(result.reason, LINK_REFUSALS["malformed"]),
            }
        if result.status == "confirm":
            return {"status": "confirm", "from": "messenger", "message": LINK_CONFIRM}
        return {"status": "linked", "from": "messenger", "merged": result.merged, "again": result.again}

    async def link_url(self, session: Session, to: object) -> str:
        """A fresh "Continue in Messenger" (or Instagram, ...) link for the tab's thread."""
        if not isinstance(to, str) or not to.isidentifier() or to == self.name:
            raise FrameError("bad_frame", "'to' must be another channel, such as 'messenger'")
        url = await self.threads.link_url(session.identity, to)  # its thread now, not at hello
        if url is None:
            raise FrameError("link_unavailable", f"Continuing in {to.capitalize()} is not available here.")
        return url

    def _inbound(self, session: Session, frame: dict[str, Any]) -> Inbound:
        kind = frame.get("type")
        frame_id = frame.get("id")
        if not isinstance(frame_id, str) or not _CLIENT_ID.match(frame_id):
            raise FrameError("bad_frame", "every message and event needs an 'id' of 1 to 64 letters, digits or -_.:")
        message_id = f"web:{frame_id}"
        page = frame.get("page") if isinstance(frame.get("page"), str) else None
        metadata: dict[str, Any] = {"client_id": frame_id}
        if page:
            metadata["page"] = page[:500]
        if kind == "message":
            text = frame.get("text")
            if not isinstance(text, str) or not text.strip():
                raise FrameError("bad_frame", "'text' must be a non-empty string", frame_id)
            if len(text) > self.max_chars:
                raise FrameError(
                    "too_long", f"Your message is too long: at most {self.max_chars} characters.", frame_id
                )
            display = frame.get("display")
            if isinstance(display, str) and display.strip():
                metadata["display"] = display[:200]
            return Inbound(
                session.identity,
                "message",
                text=text,
                message_id=message_id,
                language_hint=session.locale,
                metadata=metadata,
                timestamp=time.time(),
            )
        if kind == "event":
            name = frame.get("name")
            data = frame.get("data") or {}
            if not isinstance(name, str) or not _EVENT_NAME.match(name):
                raise FrameError("bad_frame", "an event needs a 'name' of 1 to 64 letters, digits or -_.:", frame_id)
            if not isinstance(data, dict) or len(json.dumps(data)) > 4096:
                raise FrameError("bad_frame", "event 'data' must be an object of at most 4 KB", frame_id)
            return Inbound(
                session.identity,
                "event",
                event=name,
                data=data,
                message_id=message_id,
                language_hint=session.locale,
                metadata=metadata,
                timestamp=time.time(),
            )
        raise FrameError("bad_frame", f"unknown frame type {kind!r}", frame_id if isinstance(frame_id, str) else None)

    async def receive(
        self, session: Session, frame: dict[str, Any], address: str | None = None
    ) -> tuple[dict[str, Any], TurnOutcome]:
        """Handle a message or event frame; returns the ack and the turn (already published to all tabs)."""
        inbound = self._inbound(session, frame)
        try:
            self.check_address(address)
        except FrameError as exc:
            exc.frame_id = frame.get("id")
            raise
        limiter = self.event_limiter if inbound.kind == "event" else self.limiter
        if not limiter.allow(session.visitor_id):
            wait = max(1, round(limiter.retry_after(session.visitor_id)))
            raise FrameError(
                "rate_limited",
                f"You're sending messages too fast. Please wait {wait} seconds and try again.",
                frame.get("id"),
                retry_after=wait,
            )
        outcome = await self.threads.turn(inbound, deliver=self.deliver)
        return {"type": "ack", "id": frame["id"], "duplicate": outcome.duplicate}, outcome

    # ------------------------------------------------------------------ the channel seam

    def reach(
        self, thread: ThreadView, *, now: float, tag: str | None = None, by_person: bool = False, live: bool = False
    ) -> Reach:
        if live:
            return Reach(self.name, "now", "web_online: shown live in their open chat window")
        return Reach(self.name, "queued", "web_queued: shown when they next open the chat on the website")

    async def send(
        self, thread: ThreadView, messages: list[Outbound], reach: Reach, *, committed: tuple[StoredEvent, ...] = ()
    ) -> Sent:
        """Recorded already; pushed to every open tab (on any worker) now."""
        items = chat_items(committed)
        if items:
            await self.hub.publish(thread.thread_id, {"type": "messages", "messages": items})
        return Sent(ok=True, detail={"live_tabs": await self.hub.online(thread.thread_id)})

    def continue_url(self, token: str) -> str | None:
        return site_link(self.site_url, token) if self.site_url else None

    async def live_windows(self, thread_id: str) -> int:
        return await self.hub.online(thread_id)

    async def rewritten(self, thread_id: str) -> None:
        """Merged or forgotten: open tabs reload it (sequence numbers changed) or start afresh."""
        await self.hub.publish(thread_id, {"type": "reset"})

    async def deliver(self, outcome: TurnOutcome) -> None:
        """A turn of the thread, here or on another channel (Messenger, a reminder): every open tab shows it."""
        if outcome.channel not in self.identity_channels and not await self.hub.online(outcome.thread_id):
            return
        messages = chat_items(outcome.committed)
        if messages:
            await self.hub.publish(outcome.thread_id, {"type": "messages", "messages": messages})

    # ------------------------------------------------------------------ WebSocket

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        if not self.origin_allowed(request):
            return self._refuse_origin(request)
        ws = web.WebSocketResponse(heartbeat=25, max_msg_size=MAX_FRAME_BYTES)
        await ws.prepare(request)
        self._sockets.add(ws)
        queue: asyncio.Queue[dict[str, Any] | FrameError | None] = asyncio.Queue()
        state: dict[str, Any] = {"session": None, "address": self.address(request)}

        async def send(frame: dict[str, Any]) -> None:
            if ws.closed:
                raise TabGone("the tab's socket is closed")
            try:
                await asyncio.wait_for(ws.send_str(json.dumps(frame, ensure_ascii=False)), SEND_TIMEOUT_SECONDS)
            except ConnectionError as exc:  # aborted, or closing while the frame was handled
                raise TabGone(str(exc)) from None
            except TimeoutError:
                # A tab that reads nothing (a phone gone to sleep on a bad network) must not hold up the frames
                # of every other tab of this worker: it is closed, and resyncs when it reconnects.
                closing = asyncio.ensure_future(ws.close(code=WSCloseCode.GOING_AWAY, message=b"too slow"))
                self._closing.add(closing)
                closing.add_done_callback(self._closing.discard)
                raise TabGone("the tab did not read its frames in time") from None

        worker = asyncio.create_task(self._work(queue, state, send, ws), name="widget-tab")
        self._workers.add(worker)
        worker.add_done_callback(self._workers.discard)
        try:
            async for message in ws:
                if message.type == WSMsgType.BINARY:  # answered, so a client learns why nothing happens
                    queue.put_nowait(FrameError("bad_frame", "frames must be JSON text, not binary"))
                elif message.type == WSMsgType.TEXT:
                    queue.put_nowait(_parsed(message.data))
        finally:
            queue.put_nowait(None)
            try:  # shielded: a handler cancelled because its client left does not cut a turn half-way
                await asyncio.wait_for(asyncio.shield(worker), FINISH_SECONDS)
            except TimeoutError:
                log.warning("a closed widget tab's frames took over %s s; the rest were dropped", FINISH_SECONDS)
                worker.cancel()
        return ws

    async def _work(
        self,
        queue: asyncio.Queue[dict[str, Any] | FrameError | None],
        state: dict[str, Any],
        send: Send,
        ws: web.WebSocketResponse,
    ) -> None:
        """The tab's frames, one after the other in the order they came. The tab ends when this does, however
        its socket ended (closed, reset, the handler cancelled): only then can no subscription follow."""
        try:
            while (frame := await queue.get()) is not None:
                await self._ws_frame(frame, state, send, ws)
        finally:
            try:
                if state["session"] is not None:
                    await self.hub.unsubscribe(state["session"].thread_id, send)
            finally:
                self._sockets.discard(ws)

    async def _ws_frame(
        self, frame: dict[str, Any] | FrameError, state: dict[str, Any], send: Send, ws: web.WebSocketResponse
    ) -> None:
        try:
            try:
                if isinstance(frame, FrameError):
                    raise frame
                await self._ws_answer(frame, state, send)
            except FrameError as exc:
                await send(exc.frame())
                if exc.code == "identity_refused":
                    await ws.close(code=4003, message=b"identity refused")
            except TabGone:
                raise
            except Exception:  # never let one frame take the connection down silently
                log.exception("widget frame failed")
                frame_id = frame.get("id") if isinstance(frame, dict) else None
                await send(
                    {
                        "type": "error",
                        "code": "internal",
                        "message": "Something went wrong on our side.",
                        **({"id": frame_id} if isinstance(frame_id, str) else {}),
                    }
                )
        except TabGone as exc:  # the visitor left: the frame was handled, only its answer has nowhere to go
            log.debug("a widget tab went away while its frame was handled: %s", exc)

    async def _ws_answer(self, frame: dict[str, Any], state: dict[str, Any], send: Send) -> None:
        if frame.get("type") == "hello":
            if state["session"] is not None:
                await self.hub.unsubscribe(state["session"].thread_id, send)
            session, ready = await self.hello(frame, state["address"])
            state["session"] = session
            await self.hub.subscribe(session.thread_id, send)
            await send(ready)
            # A turn committed (on any worker) after the history was read but before the tab was
            # subscribed reached no tab: send what came since (the widget drops seqs it has).
            since = await self.threads.history(
                session.thread_id, after=session.seen_version, limit=self.config.history_limit * 20
            )
            missed = chat_items(since.events if since else ())
            if missed:
                await send({"type": "messages", "messages": missed})
            return
        if state["session"] is None:
            raise FrameError("bad_frame", "send a hello frame first", frame.get("id"))
        if frame.get("type") == "link":
            try:
                url = await self.link_url(state["session"], frame.get("to"))
            except FrameError as exc:
                exc.frame_id = frame.get("id") if isinstance(frame.get("id"), str) else None
                raise
            await send({"type": "link", "id": frame.get("id"), "url": url})
            return
        ack, _outcome = await self.receive(state["session"], frame, state["address"])
        await send(ack)

    # ------------------------------------------------------------------ HTTP fallback

    async def _json_body(self, request: web.Request) -> dict[str, Any]:
        try:
            raw = await request.read()  # the whole body, however many packets it came in
            body = loads_text(raw or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            raise FrameError("bad_frame", "the body is not valid JSON") from None
        except ValueError as exc:  # a lone surrogate: text no store can keep
            raise FrameError("bad_frame", str(exc)) from None
        except web.HTTPRequestEntityTooLarge:
            raise FrameError("too_long", f"the body is larger than {MAX_FRAME_BYTES} bytes") from None
        if len(raw) > MAX_FRAME_BYTES or not isinstance(body, dict):
            raise FrameError("bad_frame", f"the body must be a JSON object of at most {MAX_FRAME_BYTES} bytes")
        return body

    def _error(self, request: web.Request, exc: FrameError) -> web.StreamResponse:
        status = {"rate_limited": 429, "identity_refused": 403, "too_long": 413}.get(exc.code, 400)
        return self._cors(request, web.json_response(exc.frame(), status=status))

    async def http_hello(self, request: web.Request) -> web.StreamResponse:
        if not self.origin_allowed(request):
            return self._refuse_origin(request)
        try:
            _session, ready = await self.hello(await self._json_body(request), self.address(request))
        except FrameError as exc:
            return self._error(request, exc)
        return self._cors(request, web.json_response(ready, dumps=_dumps))

    async def http_send(self, request: web.Request) -> web.StreamResponse:
        if not self.origin_allowed(request):
            return self._refuse_origin(request)
        frame_id = None
        try:
            body = await self._json_body(request)
            visitor_id = check_visitor_id(body.get("visitor_id"))
            frame = body.get("frame")
            if not isinstance(frame, dict):
                raise FrameError("bad_frame", "'frame' must be a message or event frame")
            frame_id = frame.get("id") if isinstance(frame.get("id"), str) else None
            customer_id = check_customer(self.config.identity_secret, body.get("customer"))
            session_identity = (
                Identity(CUSTOMER_CHANNEL, customer_id) if customer_id else Identity(WEB_CHANNEL, visitor_id)
            )
            thread_id = await self.threads.find(session_identity)
            if thread_id is None:
                raise FrameError("bad_frame", "say hello first (POST /web/api/hello)", frame_id)
            locale = body.get("locale") if isinstance(body.get("locale"), str) else None
            ack, outcome = await self.receive(
                Session(visitor_id, thread_id, locale, customer_id), frame, self.address(request)
            )
        except IdentityError as exc:
            return self._error(request, FrameError("identity_refused", str(exc)))
        except FrameError as exc:
            if exc.frame_id is None and frame_id is not None:
                exc.frame_id = frame_id  # the widget must know which queued frame was refused
            return self._error(request, exc)
        return self._cors(request, web.json_response({**ack, "messages": chat_items(outcome.committed)}, dumps=_dumps))

    async def http_link(self, request: web.Request) -> web.StreamResponse:
        if not self.origin_allowed(request):
            return self._refuse_origin(request)
        try:
            body = await self._json_body(request)
            visitor_id = check_visitor_id(body.get("visitor_id"))
            customer_id = check_customer(self.config.identity_secret, body.get("customer"))
            identity = Identity(CUSTOMER_CHANNEL, customer_id) if customer_id else Identity(WEB_CHANNEL, visitor_id)
            thread_id = await self.threads.find(identity)
            if thread_id is None:
                raise FrameError("bad_frame", "say hello first (POST /web/api/hello)")
            url = await self.link_url(Session(visitor_id, thread_id, None, customer_id), body.get("to"))
        except IdentityError as exc:
            return self._error(request, FrameError("identity_refused", str(exc)))
        except FrameError as exc:
            return self._error(request, exc)
        return self._cors(request, web.json_response({"type": "link", "id": body.get("id"), "url": url}))

    async def http_poll(self, request: web.Request) -> web.StreamResponse:
        if not self.origin_allowed(request):
            return self._refuse_origin(request)
        try:
            visitor_id = check_visitor_id(request.query.get("visitor_id"))
            after = int(request.query.get("after", "0"))
            customer = None
            if request.query.get("customer_id"):
                customer = check_customer(
                    self.config.identity_secret,
                    {"id": request.query["customer_id"], "signature": request.query.get("customer_signature")},
                )
        except (IdentityError, ValueError) as exc:
            return self._error(request, FrameError("bad_frame", str(exc)))
        thread_id = await self.threads.find(
            Identity(CUSTOMER_CHANNEL, customer) if customer else Identity(WEB_CHANNEL, visitor_id)
        )
        messages = []
        if thread_id is not None:
            history = await self.threads.history(thread_id, after=max(0, after), limit=self.config.history_limit * 20)
            epoch = thread_epoch(thread_id, history.state if history else {})
            given = request.query.get("epoch")
            if (given is not None and given != epoch) or after > (history.version if history else 0):
                return self._cors(request, web.json_response({"messages": [], "reset": True}))
            messages = chat_items(history.events if history else ())[-self.config.history_limit :]
        elif after > 0:
            return self._cors(request, web.json_response({"messages": [], "reset": True}))  # the thread is gone
        return self._cors(request, web.json_response({"messages": messages}, dumps=_dumps))


def _parsed(data: str) -> dict[str, Any] | FrameError:
    """A client frame, or the error to answer it with (in turn with the others, by the tab's worker)."""
    try:
        frame = loads_text(data)
    except (json.JSONDecodeError, RecursionError):
        return FrameError("bad_frame", "frames must be JSON objects")
    except ValueError as exc:  # a lone surrogate: text no store can keep
        return FrameError("bad_frame", str(exc))
    return frame if isinstance(frame, dict) else FrameError("bad_frame", "frames must be JSON objects")


def thread_epoch(thread_id: str, state: dict[str, Any]) -> str:
    """Names a thread's log as the widget numbers it: another thread, or a rewritten log, is another epoch."""
    return hashlib.sha256(f"{thread_id}:{state.get('epoch', '')}".encode()).hexdigest()[:12]


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
