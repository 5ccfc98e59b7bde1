"""The widget's WebSocket: one socket per browser tab, its frames handled one after the other by the tab's own
worker, and the tab subscribed to its thread's live frames until it ends.

Client frames (JSON): ``hello`` {visitor_id, locale?, customer?: {id, signature}, after?}, then
``message`` {id, text, display?} and ``event`` {id, name, data?}. Server frames: ``ready``
{visitor_id, messages, started}, ``messages`` {messages}, ``ack`` {id, duplicate} and ``error``
{code, message, id?}. Every tab of a thread gets every user and bot message (``messages``), each
with the sequence number it has in the thread's log, so tabs order and de-duplicate by it. Client
message ids make a message sent twice (after a reconnect) count once.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from connectors.web.address import Network, client_address
from connectors.web.chat import WidgetChat
from connectors.web.frames import MAX_FRAME_BYTES, FrameError, parsed_frame
from connectors.web.hub import LiveHub, Send
from connectors.web.origins import Origins

log = logging.getLogger(__name__)
SEND_TIMEOUT_SECONDS = 10.0
FINISH_SECONDS = 30.0  # a closed tab's frames still being handled get this long to finish
Frames = asyncio.Queue[dict[str, Any] | FrameError | None]


class TabGone(ConnectionResetError):
    """The tab's socket closed or broke: what was meant for it has nowhere to go, and nothing failed here."""


class TabSockets:
    """The open tabs of this worker: served, told to go when the server stops, and waited for as it stops."""

    def __init__(
        self,
        chat: WidgetChat,
        hub: LiveHub,
        origins: Origins,
        proxies: tuple[Network, ...],
    ) -> None:
        self.chat, self.hub, self.origins, self.proxies = chat, hub, origins, proxies
        self._sockets: set[web.WebSocketResponse] = set()
        self._closing: set[asyncio.Future[Any]] = set()
        self._workers: set[asyncio.Task[None]] = set()  # each open tab's frame worker

    @property
    def open(self) -> int:
        """Widget WebSockets this worker holds open right now."""
        return len(self._sockets)

    async def closing(self) -> None:
        """The server is stopping: tell open tabs to go (they reconnect, to another worker if there is one)."""
        for ws in list(self._sockets):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")

    async def finish(self) -> None:
        """Tabs that closed as the server stopped: their turns finish (or are cancelled after a while)."""
        if self._workers:
            _done, late = await asyncio.wait(self._workers, timeout=FINISH_SECONDS)
            for worker in late:
                worker.cancel()
            if late:
                await asyncio.wait(late)

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        if not self.origins.allow(request):
            return self.origins.refuse(request)
        ws = web.WebSocketResponse(heartbeat=25, max_msg_size=MAX_FRAME_BYTES)
        await ws.prepare(request)
        self._sockets.add(ws)
        queue: Frames = asyncio.Queue()
        state: dict[str, Any] = {"session": None, "address": client_address(request, self.proxies)}

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
                    queue.put_nowait(parsed_frame(message.data))
        finally:
            queue.put_nowait(None)
            try:  # shielded: a handler cancelled because its client left does not cut a turn half-way
                await asyncio.wait_for(asyncio.shield(worker), FINISH_SECONDS)
            except TimeoutError:
                log.warning("a closed widget tab's frames took over %s s; the rest were dropped", FINISH_SECONDS)
                worker.cancel()
        return ws

    async def _work(self, queue: Frames, state: dict[str, Any], send: Send, ws: web.WebSocketResponse) -> None:
        """The tab's frames, one after the other in the order they came. The tab ends when this does, however
        its socket ended (closed, reset, the handler cancelled): only then can no subscription follow."""
        try:
            while (frame := await queue.get()) is not None:
                await self._frame(frame, state, send, ws)
        finally:
            try:
                if state["session"] is not None:
                    await self.hub.unsubscribe(state["session"].thread_id, send)
            finally:
                self._sockets.discard(ws)

    async def _frame(
        self, frame: dict[str, Any] | FrameError, state: dict[str, Any], send: Send, ws: web.WebSocketResponse
    ) -> None:
        try:
            try:
                if isinstance(frame, FrameError):
                    raise frame
                await self._answer(frame, state, send)
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

    async def _answer(self, frame: dict[str, Any], state: dict[str, Any], send: Send) -> None:
        if frame.get("type") == "hello":
            if state["session"] is not None:
                await self.hub.unsubscribe(state["session"].thread_id, send)
            session, ready = await self.chat.hello(frame, state["address"])
            state["session"] = session
            await self.hub.subscribe(session.thread_id, send)
            await send(ready)
            # A turn committed (on any worker) after the history was read but before the tab was
            # subscribed reached no tab: send what came since (the widget drops seqs it has).
            missed = await self.chat.missed(session)
            if missed:
                await send({"type": "messages", "messages": missed})
            return
        if state["session"] is None:
            raise FrameError("bad_frame", "send a hello frame first", frame.get("id"))
        if frame.get("type") == "link":
            try:
                url = await self.chat.link_url(state["session"], frame.get("to"))
            except FrameError as exc:
                exc.frame_id = frame.get("id") if isinstance(frame.get("id"), str) else None
                raise
            await send({"type": "link", "id": frame.get("id"), "url": url})
            return
        ack, _outcome = await self.chat.receive(state["session"], frame, state["address"])
        await send(ack)
