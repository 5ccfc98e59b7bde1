"""The REST channel's requests: Rasa's ``RestInput``, plus Threadline's extensions.

``POST /webhooks/rest/webhook`` with ``{"sender", "message", "metadata"?,
"input_channel"?}`` answers with the list :func:`connectors.rest.render.render`
makes. A button's payload sent back as ``message`` is a button press.
``input_channel`` names the channel the message is recorded as coming from
(the tracker's ``input_channel``), as in Rasa; the thread's identity stays a
REST one. Threadline extensions: ``"event": {"name", "data"}`` instead
of ``message`` records a site/channel event (e.g. ``conversation_start``,
``product_viewed``, ``referral``), and ``message_id`` makes redelivery safe.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from bots.types import (
    Identity,
    Inbound,
    Outbound,
    StoredEvent,
    dumps_text,
    is_text,
    loads_text,
    secrets_match,
)
from connectors.base import Channel, ChannelContext, ChannelSpec, Reach, RenderLimits, Sent, ThreadView
from connectors.rest.render import render

log = logging.getLogger(__name__)
CHANNEL = "rest"
MAX_BODY_BYTES = 64 * 1024


class BadRequest(Exception):
    pass


def parse(body: Any, max_chars: int) -> Inbound:
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    sender = body.get("sender")
    if not isinstance(sender, str) or not sender.strip():
        raise BadRequest("'sender' must be a non-empty string")
    if len(sender) > 256:
        raise BadRequest("'sender' is longer than 256 characters")
    metadata = body.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise BadRequest("'metadata' must be a JSON object")
    input_channel = body.get("input_channel")
    if input_channel is not None and (not isinstance(input_channel, str) or len(input_channel) > 64):
        raise BadRequest("'input_channel' must be a string of at most 64 characters")
    if input_channel:  # Rasa's `input_channel or "rest"`: the channel the message is recorded as coming from
        metadata = {**metadata, "input_channel": input_channel}
    message_id = body.get("message_id", metadata.get("message_id"))
    if message_id is not None and not isinstance(message_id, str):
        raise BadRequest("'message_id' must be a string")
    hint = metadata.get("language") or metadata.get("locale")
    hint = hint if isinstance(hint, str) else None
    identity = Identity(CHANNEL, sender)
    event = body.get("event")
    if event is not None:
        if not isinstance(event, dict) or not isinstance(event.get("name"), str) or not event["name"]:
            raise BadRequest("'event' must be an object with a non-empty 'name'")
        data = event.get("data") or {}
        if not isinstance(data, dict):
            raise BadRequest("'event.data' must be a JSON object")
        return Inbound(
            identity,
            "event",
            event=event["name"],
            data=data,
            message_id=message_id,
            language_hint=hint,
            metadata=metadata,
            timestamp=time.time(),
        )
    text = body.get("message")
    if not isinstance(text, str):
        raise BadRequest("'message' must be a string (or send an 'event')")
    if not text.strip():
        raise BadRequest("'message' is empty")
    if len(text) > max_chars:
        raise BadRequest(f"'message' is longer than {max_chars} characters")
    return Inbound(
        identity,
        "message",
        text=text,
        message_id=message_id,
        language_hint=hint,
        metadata=metadata,
        timestamp=time.time(),
    )


class RestConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    token: str = ""  # a bearer token (or ?token=) every request must carry; empty: none needed


class RestChannel(Channel):
    name = CHANNEL
    identity_channels = (CHANNEL,)
    limits = RenderLimits()  # the client renders what it gets: no limits of its own
    answers_later = True  # a request/response channel: messages sent in between wait for the next request

    def __init__(self, context: ChannelContext) -> None:
        self.threads = context.threads
        self.token = context.config.token
        self.max_chars = context.max_message_chars

    def reach(
        self, thread: ThreadView, *, now: float, tag: str | None = None, by_person: bool = False, live: bool = False
    ) -> Reach:
        return Reach(CHANNEL, "queued", "rest_next_request: answered with their next request on the REST channel")

    async def send(
        self, thread: ThreadView, messages: list[Outbound], reach: Reach, *, committed: tuple[StoredEvent, ...] = ()
    ) -> Sent:
        return Sent(ok=True)  # kept with the thread; the next turn on this channel answers them first

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/webhooks/rest", self.health),
            web.get("/webhooks/rest/", self.health),
            web.post("/webhooks/rest/webhook", self.webhook),
            web.post("/model/parse", self.model_parse),
        ]

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    def _authorised(self, request: web.Request) -> bool:
        if not self.token:
            return True
        given = request.query.get("token", "")
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            given = header[7:]
        return secrets_match(given, self.token)

    async def model_parse(self, request: web.Request) -> web.StreamResponse:
        """Rasa's ``POST /model/parse``: what the NLU makes of a text, without running a turn.

        ``sender`` (a REST sender) lends the language of that sender's thread
        as a prior, as in a conversation; ``lang_hint`` is a locale hint.
        """
        if not self._authorised(request):
            return web.json_response({"error": "missing or wrong token"}, status=401)
        try:
            body = json.loads(await request.read() or b"null")
        except (ValueError, UnicodeDecodeError, RecursionError):
            return web.json_response({"error": "the body is not valid JSON"}, status=400)
        text = body.get("text") if isinstance(body, dict) else None
        if not isinstance(text, str) or not is_text(text) or len(text) > self.max_chars:
            return web.json_response(
                {"error": f"give 'text': a string of at most {self.max_chars} characters"}, status=400
            )
        hint, sender = body.get("lang_hint"), body.get("sender")
        if any(
            value is not None and (not isinstance(value, str) or not is_text(value) or len(value) > 256)
            for value in (hint, sender)
        ):
            return web.json_response(
                {"error": "'lang_hint' and 'sender' must be strings of at most 256 characters"}, status=400
            )
        result = await self.threads.understand(text, Identity(CHANNEL, sender) if sender else None, hint)
        return web.json_response(result.as_parse_data(), dumps=dumps_text)

    async def webhook(self, request: web.Request) -> web.StreamResponse:
        if not self._authorised(request):
            return web.json_response({"error": "missing or wrong token"}, status=401)
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            return web.json_response({"error": f"body larger than {MAX_BODY_BYTES} bytes"}, status=413)
        try:
            raw = await request.read()  # the whole body, however many packets it came in
            if len(raw) > MAX_BODY_BYTES:
                return web.json_response({"error": f"body larger than {MAX_BODY_BYTES} bytes"}, status=413)
            body = loads_text(raw or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            return web.json_response({"error": "the body is not valid JSON"}, status=400)
        except ValueError as exc:  # a lone surrogate: text no store or channel can carry
            return web.json_response({"error": str(exc)}, status=400)
        except web.HTTPRequestEntityTooLarge:
            return web.json_response({"error": f"body larger than {MAX_BODY_BYTES} bytes"}, status=413)
        try:
            inbound = parse(body, self.max_chars)
        except BadRequest as exc:
            return web.json_response({"error": str(exc)}, status=400)
        # A retry of a message already processed (the first answer was lost, e.g. its worker died before
        # replying) gets the same replies again (``duplicate``), so retrying is safe for the client.
        outcome = await self.threads.turn(inbound)
        outbound = self.threads.resolve_links(outcome.thread_id, outcome.outbound, here=CHANNEL)
        messages = render(inbound.identity.user_id, outbound)
        if request.query.get("stream", "").lower() == "true":
            response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await response.prepare(request)
            for message in messages:
                await response.write(dumps_text(message).encode() + b"\n")
            await response.write_eof()
            return response
        return web.json_response(messages, dumps=dumps_text)


SPEC = ChannelSpec(name=CHANNEL, config_model=RestConfig, channel=RestChannel)
