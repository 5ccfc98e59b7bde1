"""The page at ``/`` for any bot: "Try <name>" with the chat window open, in the bot's own look.

It shows only what the bot's settings say (name, colour, greeting, avatar), never the demo shop's
products or pictures; the Stride shop is the demo bot's page (``demo.py``).
"""

from __future__ import annotations

from aiohttp import web

from connectors.base import BotPresentation
from connectors.web.pages import favicon, render, widget_context


def routes(bot: BotPresentation) -> list[web.RouteDef]:
    async def home(request: web.Request) -> web.Response:
        return render("try.html", open=True, **widget_context(request, bot))

    return [web.get("/", home), web.get("/favicon.ico", favicon)]
