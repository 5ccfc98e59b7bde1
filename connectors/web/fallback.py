"""The widget's HTTP fallback, for browsers and networks where its WebSocket cannot connect: the same hello,
message, event and link frames as JSON requests, and a poll for what the thread showed since."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from bots.types import Identity, loads_text
from connectors.web.address import Network, client_address
from connectors.web.chat import WidgetChat, thread_epoch
from connectors.web.frames import MAX_FRAME_BYTES, FrameError, Session, dumps
from connectors.web.identity import CUSTOMER_CHANNEL, WEB_CHANNEL, IdentityError, check_customer, check_visitor_id
from connectors.web.origins import Origins
from connectors.web.render import chat_items

_STATUS = {"rate_limited": 429, "identity_refused": 403, "too_long": 413}  # any other refused frame: 400


class HttpFallback:
    """``POST /web/api/hello``, ``/send`` and ``/link``, and ``GET /web/api/poll``."""

    def __init__(self, chat: WidgetChat, origins: Origins, proxies: tuple[Network, ...]) -> None:
        self.chat, self.origins, self.proxies = chat, origins, proxies
        self.threads, self.config = chat.threads, chat.config

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
        return self.origins.cors(request, web.json_response(exc.frame(), status=_STATUS.get(exc.code, 400)))

    async def hello(self, request: web.Request) -> web.StreamResponse:
        if not self.origins.allow(request):
            return self.origins.refuse(request)
        try:
            _session, ready = await self.chat.hello(
                await self._json_body(request), client_address(request, self.proxies)
            )
        except FrameError as exc:
            return self._error(request, exc)
        return self.origins.cors(request, web.json_response(ready, dumps=dumps))

    async def send(self, request: web.Request) -> web.StreamResponse:
        if not self.origins.allow(request):
            return self.origins.refuse(request)
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
            ack, outcome = await self.chat.receive(
                Session(visitor_id, thread_id, locale, customer_id), frame, client_address(request, self.proxies)
            )
        except IdentityError as exc:
            return self._error(request, FrameError("identity_refused", str(exc)))
        except FrameError as exc:
            if exc.frame_id is None and frame_id is not None:
                exc.frame_id = frame_id  # the widget must know which queued frame was refused
            return self._error(request, exc)
        answer = {**ack, "messages": chat_items(outcome.committed)}
        return self.origins.cors(request, web.json_response(answer, dumps=dumps))

    async def link(self, request: web.Request) -> web.StreamResponse:
        if not self.origins.allow(request):
            return self.origins.refuse(request)
        try:
            body = await self._json_body(request)
            visitor_id = check_visitor_id(body.get("visitor_id"))
            customer_id = check_customer(self.config.identity_secret, body.get("customer"))
            identity = Identity(CUSTOMER_CHANNEL, customer_id) if customer_id else Identity(WEB_CHANNEL, visitor_id)
            thread_id = await self.threads.find(identity)
            if thread_id is None:
                raise FrameError("bad_frame", "say hello first (POST /web/api/hello)")
            url = await self.chat.link_url(Session(visitor_id, thread_id, None, customer_id), body.get("to"))
        except IdentityError as exc:
            return self._error(request, FrameError("identity_refused", str(exc)))
        except FrameError as exc:
            return self._error(request, exc)
        return self.origins.cors(request, web.json_response({"type": "link", "id": body.get("id"), "url": url}))

    async def poll(self, request: web.Request) -> web.StreamResponse:
        if not self.origins.allow(request):
            return self.origins.refuse(request)
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
                return self.origins.cors(request, web.json_response({"messages": [], "reset": True}))
            messages = chat_items(history.events if history else ())[-self.config.history_limit :]
        elif after > 0:  # the thread is gone
            return self.origins.cors(request, web.json_response({"messages": [], "reset": True}))
        return self.origins.cors(request, web.json_response({"messages": messages}, dumps=dumps))
