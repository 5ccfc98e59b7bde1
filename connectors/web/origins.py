"""Which web pages may use the chat: the widget's origin checks and CORS headers, shared by its WebSocket and its
HTTP fallback so both admit and refuse the same sites."""

from __future__ import annotations

import logging
import re

from aiohttp import web

log = logging.getLogger(__name__)


class Origins:
    """The configured origins, ``public_url``'s, and the bot server's own pages."""

    def __init__(self, allowed: tuple[str, ...], public_url: str) -> None:
        public = re.match(r"^https?://[^/]+", public_url)
        self.allowed = set(allowed) | ({public.group(0)} if public else set())

    def allow(self, request: web.Request) -> bool:
        origin = request.headers.get("Origin")
        if origin is None or "*" in self.allowed or origin in self.allowed:
            return True
        return origin == f"{request.scheme}://{request.host}"  # the bot server's own pages

    def cors(self, request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if origin is not None:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
        return response

    def refuse(self, request: web.Request) -> web.StreamResponse:
        # CORS headers on the refusal itself, so the widget on that page can show why it cannot chat.
        log.warning("refused widget connection from origin %s", request.headers.get("Origin"))
        return self.cors(
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
        if not self.allow(request):
            return self.refuse(request)
        response = web.Response(
            status=204,
            headers={
                "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                "Access-Control-Allow-Headers": "Content-Type",
                "Access-Control-Max-Age": "600",
            },
        )
        return self.cors(request, response)
