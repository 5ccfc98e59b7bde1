"""What a widget tab's frames do to its thread, whichever way they came (WebSocket or the HTTP fallback): the
hello that opens (or joins, through a link from Messenger) the thread, messages and events as turns within the
rate limits, and "Continue in Messenger" links."""

from __future__ import annotations

import hashlib
import time
from typing import Any

from bots.types import Deliver, Identity, Inbound, TurnOutcome
from connectors.base import ThreadAccess
from connectors.web.config import WebConfig
from connectors.web.frames import FrameError, Session, inbound_of
from connectors.web.identity import CUSTOMER_CHANNEL, WEB_CHANNEL, IdentityError, check_customer, check_visitor_id
from connectors.web.ratelimit import RateLimiter
from connectors.web.render import SHOWN_KINDS, chat_items

LINK_CONFIRM = "Continue your Messenger chat here? It will be joined with the chat you already have on this website."
# What the widget shows when a link from Messenger cannot continue the chat (flows may add their own words).
LINK_REFUSALS = {
    "malformed": "This link is not valid, so your chat could not be continued here.",
    "forged": "This link is not valid, so your chat could not be continued here.",
    "expired": "This link has expired. Ask for a new one in Messenger to continue your chat here.",
    "replayed": "This link was already used. Ask for a new one in Messenger to continue your chat here.",
    "mismatched": "This link is not meant for this website's chat.",
    "gone": "The conversation this link belongs to no longer exists.",
}


class WidgetChat:
    """The widget's side of its threads; ``deliver`` shows each turn in every open tab."""

    def __init__(self, threads: ThreadAccess, config: WebConfig, max_chars: int, deliver: Deliver) -> None:
        self.threads = threads
        self.config = config
        self.max_chars = max_chars
        self.deliver = deliver
        self.limiter = RateLimiter(config.rate_limit.messages, config.rate_limit.per_seconds)
        # site events (page views) have their own, larger allowance: browsing must not silence typing
        self.event_limiter = RateLimiter(config.rate_limit.messages * 3, config.rate_limit.per_seconds)
        # per network address, so fresh visitor ids do not buy fresh allowances (generous: offices share one)
        self.address_limiter = RateLimiter(config.rate_limit.messages * 10, config.rate_limit.per_seconds)

    def check_address(self, address: str | None) -> None:
        if address and not self.address_limiter.allow(address):
            wait = max(1, round(self.address_limiter.retry_after(address)))
            raise FrameError(
                "rate_limited", f"Too many chats from your network. Please wait {wait} seconds.", retry_after=wait
            )

    async def hello(self, frame: dict[str, Any], address: str | None = None) -> tuple[Session, dict[str, Any]]:
        self.check_address(address)
        try:
            visitor_id = check_visitor_id(frame.get("visitor_id"))
            customer_id = check_customer(self.config.identity_secret, frame.get("customer"))
        except IdentityError as exc:
            raise FrameError("identity_refused", str(exc)) from None
        locale = frame.get("locale")
        locale = locale[:35] if isinstance(locale, str) else None
        after = frame.get("after", 0)
        if not isinstance(after, int) or after < 0:
            raise FrameError("bad_frame", "'after' must be a non-negative integer")
        identity = Identity(CUSTOMER_CHANNEL, customer_id) if customer_id else Identity(WEB_CHANNEL, visitor_id)
        link = await self._redeem(frame.get("link"), identity, confirmed=frame.get("confirm") is True)
        thread_id = await self.threads.open_thread(
            Identity(WEB_CHANNEL, visitor_id),
            signed_in=Identity(CUSTOMER_CHANNEL, customer_id) if customer_id else None,
        )
        if link is not None and link["status"] != "confirm" and not link.get("again"):
            # flows greet with context ("still looking at ..."), or explain a refused link, in the bot's words
            event = "thread_linked" if link["status"] == "linked" else "link_refused"
            data = {k: v for k, v in link.items() if k in ("from", "merged", "reason")}
            await self.threads.turn(
                Inbound(identity, "event", event=event, data=data, language_hint=locale, timestamp=time.time()),
                deliver=self.deliver,
            )
        history = await self.threads.history(thread_id, kinds=SHOWN_KINDS, limit=self.config.history_limit)
        version, state = (history.version, history.state) if history else (0, {})
        epoch = thread_epoch(thread_id, state)
        # A tab that knew another thread or an older log (merged, forgotten) loads the history afresh.
        known = frame.get("epoch")
        reset = bool(after) and ((known is not None and known != epoch) or after > version)
        if after and not reset:
            since = await self.threads.history(thread_id, after=after, limit=self.config.history_limit * 20)
            messages = chat_items(since.events if since else ())[-self.config.history_limit :]
        else:
            messages = chat_items(history.events if history else ())
        started = bool(history and history.events)  # the shown kinds' tail: a message was shown
        session = Session(visitor_id, thread_id, locale, customer_id, version)
        ready = {
            "type": "ready",
            "visitor_id": visitor_id,
            "messages": messages,
            "started": started,
            "language": state.get("language"),
            "continue_in_messenger": self.threads.link_offered("messenger"),
            "epoch": epoch,
            "reset": reset,
        }
        if link is not None:
            ready["link"] = link
        return session, ready

    async def missed(self, session: Session) -> list[dict[str, Any]]:
        """What the tab's thread shows that came after its history was read for the hello."""
        since = await self.threads.history(
            session.thread_id, after=session.seen_version, limit=self.config.history_limit * 20
        )
        return chat_items(since.events if since else ())

    async def _redeem(self, token: object, identity: Identity, *, confirmed: bool) -> dict[str, Any] | None:
        """A link from Messenger ("Continue on the website"): this browser (or customer) joins that thread.

        A browser that already has a conversation (or a signed-in customer)
        is asked first: the widget shows the question and says hello again
        with ``confirm: true``.
        """
        if token is None or token == "":
            return None
        if not isinstance(token, str):
            return {
                "status": "refused",
                "from": "messenger",
                "reason": "malformed",
                "message": LINK_REFUSALS["malformed"],
            }
        result = await self.threads.redeem_link(token, identity, to="web", confirmed=confirmed)
        if result.status == "refused":
            return {
                "status": "refused",
                "from": "messenger",
                "reason": result.reason,
                "message": LINK_REFUSALS.get(result.reason, LINK_REFUSALS["malformed"]),
            }
        if result.status == "confirm":
            return {"status": "confirm", "from": "messenger", "message": LINK_CONFIRM}
        return {"status": "linked", "from": "messenger", "merged": result.merged, "again": result.again}

    async def link_url(self, session: Session, to: object) -> str:
        """A fresh "Continue in Messenger" (or Instagram, ...) link for the tab's thread."""
        if not isinstance(to, str) or not to.isidentifier() or to == WEB_CHANNEL:
            raise FrameError("bad_frame", "'to' must be another channel, such as 'messenger'")
        url = await self.threads.link_url(session.identity, to)  # its thread now, not at hello
        if url is None:
            raise FrameError("link_unavailable", f"Continuing in {to.capitalize()} is not available here.")
        return url

    async def receive(
        self, session: Session, frame: dict[str, Any], address: str | None = None
    ) -> tuple[dict[str, Any], TurnOutcome]:
        """Handle a message or event frame; returns the ack and the turn (already published to all tabs)."""
        inbound = inbound_of(session, frame, self.max_chars)
        try:
            self.check_address(address)
        except FrameError as exc:
            exc.frame_id = frame.get("id")
            raise
        limiter = self.event_limiter if inbound.kind == "event" else self.limiter
        if not limiter.allow(session.visitor_id):
            wait = max(1, round(limiter.retry_after(session.visitor_id)))
            raise FrameError(
                "rate_limited",
                f"You're sending messages too fast. Please wait {wait} seconds and try again.",
                frame.get("id"),
                retry_after=wait,
            )
        outcome = await self.threads.turn(inbound, deliver=self.deliver)
        return {"type": "ack", "id": frame["id"], "duplicate": outcome.duplicate}, outcome


def thread_epoch(thread_id: str, state: dict[str, Any]) -> str:
    """Names a thread's log as the widget numbers it: another thread, or a rewritten log, is another epoch."""
    return hashlib.sha256(f"{thread_id}:{state.get('epoch', '')}".encode()).hexdigest()[:12]
