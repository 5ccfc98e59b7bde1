"""The widget's channel: wires its files, WebSocket (``tabs.py``) and HTTP fallback (``fallback.py``) into the
server, and shows every turn of a thread, on any channel, in each of its open tabs (``hub.py``).

The frames themselves are described in ``tabs.py``; what they do to a thread is ``chat.py``.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from bots.linking.buttons import site_link
from bots.types import Outbound, StoredEvent, TurnOutcome
from connectors.base import Channel, ChannelContext, Reach, RenderLimits, Sent, ThreadView
from connectors.web import demo, trypage
from connectors.web.address import networks
from connectors.web.assets import Asset
from connectors.web.chat import WidgetChat
from connectors.web.fallback import HttpFallback
from connectors.web.hub import LiveHub
from connectors.web.identity import CUSTOMER_CHANNEL, WEB_CHANNEL
from connectors.web.origins import Origins
from connectors.web.render import chat_items
from connectors.web.script import script_asset
from connectors.web.tabs import TabSockets
from connectors.web.texts import texts_asset

STATIC = Path(__file__).parent / "static"


class WebChannel(Channel):
    name = WEB_CHANNEL
    identity_channels = (WEB_CHANNEL, CUSTOMER_CHANNEL)
    limits = RenderLimits()  # the widget shows every message of the neutral model as it is
    mirrors = True  # open chat windows show the whole thread, also what happens on Messenger

    def __init__(self, context: ChannelContext, hub: LiveHub | None = None) -> None:
        self.config = context.config
        self.site_url = context.site_url
        self.bot = context.bot
        self.texts = texts_asset(self.config.widget_texts, context.bot.languages, context.bot.default_language)
        self.hub = hub or LiveHub(context.live)
        proxies = networks(self.config.trusted_proxies)
        origins = Origins(self.config.allowed_origins, context.public_url)
        self.chat = WidgetChat(context.threads, self.config, context.max_message_chars, self.deliver)
        self.tabs = TabSockets(self.chat, self.hub, origins, proxies)
        self.http = HttpFallback(self.chat, origins, proxies)
        self.origins = origins

    @property
    def open_sockets(self) -> int:
        """Widget WebSockets this worker holds open right now."""
        return self.tabs.open

    async def start(self) -> None:
        await self.hub.start()  # with a shared store: frames from and to the other workers

    async def stop(self) -> None:
        await self.tabs.finish()  # tabs that closed as the server stopped: their turns finish before the hub stops
        await self.hub.stop()

    async def closing(self) -> None:
        """The server is stopping: tell open tabs to go (they reconnect, to another worker if there is one)
        instead of the shutdown waiting for every tab to leave by itself."""
        await self.tabs.closing()

    def routes(self) -> list[web.RouteDef]:
        routes = [
            web.get("/widget.js", script_asset(self.config.widget_texts, self.bot, self.chat.max_chars).handler()),
            web.get("/widget.css", Asset.read(STATIC / "widget.css", "text/css").handler()),
            web.get("/widget-texts.json", self.texts.handler()),
            web.post("/web/api/hello", self.http.hello),
            web.post("/web/api/send", self.http.send),
            web.get("/web/api/poll", self.http.poll),
            web.post("/web/api/link", self.http.link),
            web.options("/web/api/{tail:.*}", self.origins.preflight),
        ]
        if self.config.websocket:
            routes.append(web.get("/web/ws", self.tabs.websocket))
        if self.config.demo_page:  # the shop only for the demo bot: any other bot gets its own "Try" page
            routes += (demo if self.bot.demo_shop else trypage).routes(self.bot)
        return routes

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

    async def typing(self, thread_id: str, on: bool) -> int:
        """A person is typing an answer: every open tab shows the typing dots (or stops)."""
        await self.hub.publish(thread_id, {"type": "typing", "on": on})
        return await self.hub.online(thread_id)

    async def rewritten(self, thread_id: str) -> None:
        """Merged or forgotten: open tabs reload it (sequence numbers changed) or start afresh."""
        await self.hub.publish(thread_id, {"type": "reset"})

    async def deliver(self, outcome: TurnOutcome) -> None:
        """A turn of the thread, here or on another channel (Messenger, a reminder): every open tab shows it."""
        if outcome.channel not in self.identity_channels and (
            # a thread the turn made (a new customer's on another channel) has no window yet: nothing to ask the
            # bus (a round trip on PostgreSQL and Redis); a window opened later loads what was committed
            outcome.made_thread or not await self.hub.online(outcome.thread_id)
        ):
            return
        messages = chat_items(outcome.committed)
        if messages:
            await self.hub.publish(outcome.thread_id, {"type": "messages", "messages": messages})
