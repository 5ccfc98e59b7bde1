"""The Instagram channel: ``GET``/``POST /webhooks/instagram``, replies, and sends outside a turn.

A POST is checked (Meta's signature over the raw bytes; 403 and nothing
stored when it is wrong), parsed, and every item is stored in the durable
inbox before Meta gets its 200. Only then are the items processed, one
customer at a time in the order they came (different customers in
parallel); a restart processes what the inbox still holds, and redelivered
items are stored once.

Echoes (the account's own messages come back on the ``messages`` field)
are dropped when they are ours, recognised by the message ids the Send API
returned (kept in memory and in the thread's ``delivered`` events) or by our
app id; any other echo is a person answering from the Instagram inbox and is
recorded as an ``agent_message`` event.

"Continue in Instagram" on the website opens ``https://ig.me/m/<username>?ref=<token>``.
Meta hands the ``ref`` back in a ``referral`` when the customer already has
a conversation, or with the ice breaker they tap in a new one (Meta's
"ig.me links" page: the account needs ice breakers for that); the token is
redeemed so the customer joins the website's thread.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from aiohttp import web

from bots.types import Identity, InboxItem, Outbound, StoredEvent, ThreadEvent, TurnOutcome
from connectors.base import (
    Channel,
    ChannelContext,
    Reach,
    Sent,
    ThreadView,
)
from connectors.instagram.config import InstagramConfig
from connectors.instagram.inbound import CHANNEL, agent_message, identity_of, steps
from connectors.instagram.parse import InstagramEvent, parse_body, parse_item
from connectors.instagram.render import LIMITS as SEND_LIMITS
from connectors.instagram.render import render_all
from connectors.meta.graph import GraphClient, GraphSettings
from connectors.meta.links import follow_link
from connectors.meta.policy import decide, reach_of
from connectors.meta.queue import PersonQueues
from connectors.meta.send import OnSent, resume_point, send_bodies
from connectors.meta.signature import read_delivery, verification

log = logging.getLogger(__name__)
PATH = "/webhooks/instagram"
SENT_IDS_KEPT = 10_000
INSTAGRAM_TAGS: frozenset[str] = frozenset()  # Meta's non-promotional tags are "not available for Instagram"
# Instagram's own subcode for "This message is sent outside of allowed window" (as Graph answers it)
INSTAGRAM_REASONS: dict[tuple[int, int | None], str] = {(10, 2534022): "outside_window"}


def ig_me_link(username: str, token: str) -> str:
    return f"https://ig.me/m/{username}?ref={token}"


def graph_settings(config: InstagramConfig) -> GraphSettings:
    return config.graph_settings("Instagram", config.access_token, reasons=INSTAGRAM_REASONS)


class InstagramChannel(Channel):
    name = CHANNEL
    identity_channels = (CHANNEL,)
    limits = SEND_LIMITS.render_limits()

    def __init__(
        self, context: ChannelContext, graph: GraphClient | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self.threads = context.threads
        self.config: InstagramConfig = context.config
        self.graph = graph or GraphClient(graph_settings(self.config))
        self.clock = clock
        self.inbox = self.threads.inbox(CHANNEL)
        self.queues: PersonQueues[InstagramEvent] = PersonQueues(self._process, self.inbox, clock, "Instagram")
        self._sent: OrderedDict[str, None] = OrderedDict()  # our latest message ids: their echoes are ours

    # ------------------------------------------------------------------ lifetime

    def routes(self) -> list[web.RouteDef]:
        return [web.get(PATH, self.verify), web.post(PATH, self.webhook)]

    async def start(self) -> None:
        """Open the Graph session, and process what a previous run stored but did not finish."""
        await self.graph.__aenter__()
        pending = await self.inbox.pending(limit=100_000)
        if pending:
            log.info("Instagram: processing %d item(s) left from the last run", len(pending))
        for row_id, payload, _person in pending:
            try:
                data = json.loads(payload)
                event = parse_item(data["item"], data["account"], data["standby"])
            except (ValueError, KeyError, TypeError):
                log.error("Instagram: inbox item %d is not an item this channel stored; left as it is", row_id)
                continue
            self.queues.dispatch(row_id, event.igsid, event)

    async def stop(self) -> None:
        await self.queues.idle()
        await self.graph.close()

    def continue_url(self, token: str) -> str | None:
        """Where "Continue in Instagram" leads with a link token; None when no username is configured."""
        return ig_me_link(self.config.username, token) if self.config.username else None

    # ------------------------------------------------------------------ webhook

    async def verify(self, request: web.Request) -> web.Response:
        return verification(request, self.config.verify_token, "Instagram")

    async def webhook(self, request: web.Request) -> web.Response:
        delivery = await read_delivery(request, self.config.app_secret, "Instagram")
        if delivery.refused is not None:
            return delivery.refused
        events, notes, malformed = parse_body(delivery.body)
        for note in notes:
            log.info("Instagram webhook: %s", note)
        if malformed:
            return web.json_response({"error": notes[0]}, status=400)
        await self._store(events)
        return web.Response(text="EVENT_RECEIVED", content_type="text/plain")

    async def _store(self, events: list[InstagramEvent]) -> None:
        account = self.config.ig_user_id
        if account and any(e.account_id != account for e in events):
            log.warning("Instagram webhook: item(s) for other accounts ignored")
            events = [e for e in events if e.account_id == account]
        without = [e for e in events if e.igsid is None]
        if without:
            log.info(
                "Instagram webhook: %d item(s) without a customer (%s) skipped",
                len(without),
                ", ".join(sorted({e.kind for e in without})),
            )
        events = [e for e in events if e.igsid is not None]
        if not events:
            return
        items = [
            InboxItem(
                e.key,
                json.dumps({"item": e.body, "account": e.account_id, "standby": e.standby}, ensure_ascii=False),
                Identity(CHANNEL, e.igsid or ""),
            )
            for e in events
        ]
        ids = await self.inbox.enqueue(items, now=self.clock())
        for row_id, event in zip(ids, events, strict=False):
            if row_id is not None:  # None: a redelivery of an item stored before
                self.queues.dispatch(row_id, event.igsid, event)

    # ------------------------------------------------------------------ processing

    async def _process(self, event: InstagramEvent) -> None:
        identity = identity_of(event)
        if identity is None:
            return
        if event.kind == "echo":
            if not await self._is_ours(event, identity):
                await self.threads.turn(
                    agent_message(event, identity), deliver=lambda outcome: self._reply(identity, outcome)
                )
            return
        planned = steps(event, identity)
        if not planned:
            log.info("Instagram %s item skipped", event.kind)
            return
        # "seen" and a typing bubble only for what the bot will read; a story mention or a reaction gets neither
        interactive = not event.standby and any(step.inbound.kind == "message" for step in planned)
        if interactive and await self.threads.is_handed_off(identity):
            interactive = False  # a person has the chat: no "seen", no typing bubble from the bot
        wanted = (("mark_seen", self.config.mark_seen), ("typing_on", self.config.typing_indicators))
        actions = [action for action, on in wanted if on and interactive]
        if actions:  # both before the replies; between them the order does not matter
            await asyncio.gather(*(self.graph.send({"id": identity.user_id}, {"sender_action": a}) for a in actions))
        answered = False
        for step in planned:
            if step.unless_answered and answered:
                continue  # a flow about the story (or the referral) answered already
            inbound = await follow_link(self.threads, step.inbound, to=CHANNEL)
            deliver = functools.partial(self._reply, identity, item=event.key, turn=inbound.message_id)
            outcome = await self.threads.turn(inbound, deliver=deliver)
            answered = answered or bool(outcome.outbound)

    async def _is_ours(self, event: InstagramEvent, identity: Identity) -> bool:
        app_id = event.message.get("app_id")
        if self.config.app_id and app_id is not None:
            return str(app_id) == self.config.app_id
        if event.mid is None or event.mid in self._sent:
            return True
        thread_id = await self.threads.find(identity)  # sent by another worker, or before a restart?
        head = await self.threads.history(thread_id, limit=1) if thread_id else None
        if head is None or thread_id is None:
            return False
        recent = await self.threads.history(
            thread_id, after=max(0, head.version - 500), limit=500, kinds=("delivered", "delivery_failed")
        )
        return recent is not None and any(event.mid in (e.event.data.get("mids") or ()) for e in recent.events)

    async def _reply(
        self, identity: Identity, outcome: TurnOutcome, *, item: str | None = None, turn: str | None = None
    ) -> list[ThreadEvent] | None:
        """Replies to something the customer just did: inside the 24-hour window by definition. Replies an
        earlier run marked sent (in the inbox ``item``) are not sent again (see connectors/meta/send.py)."""
        if not outcome.outbound:
            return None
        messages = self.threads.resolve_links(outcome.thread_id, outcome.outbound, here=CHANNEL)
        skip, mark = await resume_point(self.inbox, outcome, item=item, turn=turn) if item else (0, None)
        return await self._send(identity, messages, messaging_type="RESPONSE", tag=None, skip=skip, on_sent=mark)

    async def _send(
        self,
        identity: Identity,
        messages: list[Outbound],
        *,
        messaging_type: str,
        tag: str | None,
        skip: int = 0,
        on_sent: OnSent | None = None,
    ) -> list[ThreadEvent]:
        """Send in order (their ``continue`` buttons resolved); stop at the first failure. Returns the event to
        record: delivered or delivery_failed."""
        rendered = render_all(messages)
        for adjustment in rendered.adjustments:
            log.warning("Instagram: %s", adjustment)
        event, mids = await send_bodies(
            self.graph,
            {"id": identity.user_id},
            rendered.bodies,
            messaging_type=messaging_type,
            tag=tag,
            channel=CHANNEL,
            now=self.clock(),
            skip=skip,
            on_sent=on_sent,
        )
        for mid in mids:  # their echoes are ours
            self._sent[mid] = None
        while len(self._sent) > SENT_IDS_KEPT:
            self._sent.popitem(last=False)
        return [event]

    # ------------------------------------------------------------------ outside a turn

    def reach(
        self, thread: ThreadView, *, now: float, tag: str | None = None, by_person: bool = False, live: bool = False
    ) -> Reach:
        """Within 24 hours of the customer's last Instagram message anything; a person's reply up to 7 days."""
        if not any(i.channel == CHANNEL for i in thread.identities):
            return Reach(CHANNEL, "refused", "no_instagram_identity: the customer never wrote on Instagram")
        decision = decide(
            thread.last_inbound_on(self.identity_channels),
            now,
            tag=tag or thread.state.get("message_tag"),
            by_person=by_person,
            bot_tags=INSTAGRAM_TAGS,
            platform="Instagram",
            business="Instagram account",
        )
        return reach_of(CHANNEL, "Instagram", decision)

    async def send(
        self, thread: ThreadView, messages: list[Outbound], reach: Reach, *, committed: tuple[StoredEvent, ...] = ()
    ) -> Sent:
        if reach.status != "now":
            return Sent(False, reason=reach.reason)
        identities = [i for i in thread.identities if i.channel == CHANNEL]
        if not identities:
            return Sent(False, reason="no_instagram_identity: the customer never wrote on Instagram")
        identity = identities[-1]  # the latest: a customer who came back with a new account
        detail: dict[str, Any] = {
            "messaging_type": reach.detail.get("messaging_type", "RESPONSE"),
            "tag": reach.detail.get("tag"),
        }
        events = await self._send(identity, messages, messaging_type=detail["messaging_type"], tag=detail["tag"])
        failed = events[0] if events[0].kind == "delivery_failed" else None
        return Sent(failed is None, tuple(events), failed.data["reason"] if failed else "", detail)

    async def idle(self) -> None:
        """Wait until every stored item has been processed (tests and benchmarks)."""
        await self.queues.idle()
