"""The ceiling: a bare aiohttp server with Threadline's REST and health endpoints and nothing behind them.

    python bench/bare_server.py PORT

It answers what the REST channel answers in shape (one text reply to the sender), on uvloop as
`threadline run` does, so what Threadline costs beyond it is what its turns cost.
"""

from __future__ import annotations

import sys

import uvloop
from aiohttp import web


async def webhook(request: web.Request) -> web.Response:
    body = await request.json()
    return web.json_response([{"recipient_id": body.get("sender"), "text": "Hello!"}])


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def main() -> None:
    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    app.router.add_get("/health", health)
    uvloop.install()
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)


if __name__ == "__main__":
    main()
