"""How long a client may take to send a request, so slow or stalled connections cannot pile up (slow-loris).

Two limits, both from ``server:`` in config.yaml:

- ``idle_timeout_seconds``: aiohttp's keep-alive timer. In the aiohttp pyproject.toml requires (3.14.5 or
  later; older releases started it only after a first answer) it runs from the moment a connection opens and
  again after every answer, and closes the connection if no complete request head (request line and headers)
  has arrived by then. That covers an idle keep-alive connection and one whose headers never finish.
- ``body_timeout_seconds``: aiohttp has no limit on reading a body, so a guard starts when a request's
  headers are in and closes the connection if its body has not fully arrived in time.

A request being answered is never cut, however long its turn takes, nor is an open WebSocket (its request
has no body, and the keep-alive timer does not run while a request is handled).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from bots.config import ServerConfig

log = logging.getLogger(__name__)


def runner_options(server: ServerConfig) -> dict[str, Any]:
    """What ``web.AppRunner`` (and aiohttp's ``TestServer``) take for these limits."""
    return {"keepalive_timeout": server.idle_timeout_seconds}


def body_deadline(seconds: float) -> Middleware:
    """A middleware that closes the connection of a request whose body is not all there ``seconds`` after its head."""

    @web.middleware
    async def deadline(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.body_exists or request.content.is_eof():
            return await handler(request)  # no body, or it came with the headers
        timer = asyncio.get_running_loop().call_later(seconds, _cut_short, request, seconds)
        try:
            return await handler(request)
        finally:
            timer.cancel()

    return deadline


def _cut_short(request: web.Request, seconds: float) -> None:
    if request.content.is_eof() or request.transport is None:
        return  # the body arrived: the handler is working on it
    log.info(
        "%s %s: the body did not arrive within %s s; closing the connection", request.method, request.path, seconds
    )
    request.transport.close()  # the handler's read ends with a connection error, answered as a client departure
