"""The ``/inbox`` web page: one HTML file and its ES modules, served as they are (no build step).

The page speaks only the JSON API of :mod:`bots.inbox.routes`. Its Content-Security-Policy allows scripts of
this server alone, so even a customer's text that slipped past the page's escaping could not run a script.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).parent / "static"
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: http: data:; "
    "media-src 'self' https: http:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


async def index(request: web.Request) -> web.FileResponse:
    """The app's one page; each view is a part of it, chosen by the page's own script."""
    headers = {"Content-Security-Policy": POLICY, "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    return web.FileResponse(STATIC / "index.html", headers=headers)


def routes() -> list[web.AbstractRouteDef]:
    return [
        web.get("/inbox", index),
        web.get("/inbox/", index),
        web.static("/inbox/static", STATIC, show_index=False, follow_symlinks=False),
    ]
