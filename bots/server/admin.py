"""What the admin endpoints share: the application's keys and the bearer-token guard.

A module of its own so that each group of endpoints (threads, data
requests, follow-ups) can live in its own module without importing the
application that mounts them.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bots.runtime import Runtime
from bots.types import secrets_match
from connectors.base import Channel

RUNTIME = web.AppKey("runtime", Runtime)
CHANNELS = web.AppKey("channels", dict[str, Channel])  # the channels this server runs, by name


def admin_guard(request: web.Request) -> web.Response | None:
    """None when the request carries the admin token; otherwise the refusal to send back."""
    token = request.app[RUNTIME].config.server.admin_token
    if not token:
        return web.json_response({"error": "the admin API is off: set server.admin_token in config.yaml"}, status=403)
    header = request.headers.get("Authorization", "")
    given = header[7:] if header.startswith("Bearer ") else ""
    if not secrets_match(given, token):
        return web.json_response({"error": "missing or wrong admin token"}, status=401)
    return None


async def admin_body(request: web.Request) -> tuple[Any, web.Response | None]:
    """The JSON body of an admin request, or the refusal to send back (no token, or not JSON)."""
    if (refused := admin_guard(request)) is not None:
        return None, refused
    try:
        return await request.json(), None
    except ValueError:
        return None, web.json_response({"error": "the body is not valid JSON"}, status=400)
