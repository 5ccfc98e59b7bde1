"""The Messenger connector: ``GET``/``POST /webhooks/messenger`` and sending replies.

A POST is checked (signature over the raw bytes), parsed, and every event of
it is stored in the durable inbox before Facebook gets its 200; only then
are the events processed, in the background, one person at a time in the
order they came and different people in parallel. After a crash the inbox
still holds what was not processed, and a restart processes it; redelivered
events are stored once, and every inbound carries its ``mid`` (or a hash of
the event) as message id, so the thread log takes it once too.
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

from bots.linking.buttons import messenger_link
from bots.types import (
    Identity,
    Inbound,
    InboxItem,
    Outbound,
    StoredEvent,
    ThreadEvent,
    TurnOutcome,
)
from connectors.base import (
    Channel,
    ChannelContext,
    Reach,
    Sent,
    ThreadView,
)
from connectors.messenger.get_started import GetStarted
from connectors.messenger.graph import GraphClient
from connectors.messenger.parse import (
    MessengerEvent,
    locale_language,
    parse_body,
    parse_item,
)
from connectors.messenger.policy import decide
from connectors.messenger.render import LIMITS as SEND_LIMITS
from connectors.messenger.render import render_all
from connectors.meta.links import follow_link
from connectors.meta.payload import obj
from connectors.meta.policy import reach_of
from connectors.meta.queue import PersonQueues
from connectors.meta.send import OnSent, resume_point, send_bodies
from connectors.meta.signature import read_delivery, signature_ok, verification

log = logging.getLogger(__name__)
CHANNEL = "messenger"
USER_REF_CHANNEL = "messenger_ref"
MAX_BODY_BYTES = 1024 * 1024
PROFILE_CACHE = 50_000


def identity_of(event: MessengerEvent) -> Identity | None:
    if event.psid:
        return Identity(CHANNEL, event.psid)
    if event.user_ref:
        return Identity(USER_REF_CHANNEL, event.user_ref)
    return None


def recipient_of(identity: Identity) -> dict[str, str]:
    return {"id": identity.user_id} if identity.channel == CHANNEL else {"user_ref": identity.user_id}


class MessengerChannel(Channel):
    name = CHANNEL
    identity_channels = (CHANNEL, USER_REF_CHANNEL)
    limits = SEND_LIMITS.render_limits()

    def __init__(
        self, context: ChannelContext, graph: GraphClient | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self.threads = context.threads
        self.config = context.config
        self.inbox = context.threads.inbox(CHANNEL)
        self.graph = graph or GraphClient(self.config)
        self.messenger_page = context.messenger_page
        self.clock = clock
        self.get_started = GetStarted(self.config.get_started_payload)
        self._locales: OrderedDict[str, tuple[str | None, float]] = OrderedDict()  # profile locales, cached
        self.queues: PersonQueues[MessengerEvent] = PersonQueues(self._process, self.inbox, self.clock, "Messenger")

    # ------------------------------------------------------------------ lifetime

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/webhooks/messenger", self.verify), web.post("/webhooks/messenger", self.webhook)]

    async def start(self) -> None:
        """Open the Graph API client; process what a previous run stored but did not finish (crash recovery)."""
        await self.graph.__aenter__()
        # Asked in the background: serving does not wait for Graph (the other rules hold meanwhile).
        self._learning = asyncio.create_task(self._learn_get_started())
        pending = await self.inbox.pending(limit=100_000)
        if pending:
            log.info("Messenger: processing %d event(s) left from the last run", len(pending))
        for row_id, payload, _person in pending:
            data = json.loads(payload)
            self._dispatch(row_id, parse_item(data["item"], data["page_id"], data["standby"]))

    async def _learn_get_started(self) -> None:
        self.get_started.learn(await self.graph.get_started_payload())

    async def stop(self) -> None:
        self._learning.cancel()
        await self.queues.idle()
        await self.graph.__aexit__(None, None, None)

    async def idle(self) -> None:
        """Wait until every stored event has been processed (tests and benchmarks)."""
        await self.queues.idle()

    @property
    def processed(self) -> int:
        """Events taken off the queues, done or failed (for tests and benchmarks)."""
        return self.queues.processed

    # ------------------------------------------------------------------ webhook

    async def verify(self, request: web.Request) -> web.Response:
        return verification(request, self.config.verify_token, "Messenger")

    def signature_ok(self, raw: bytes, headers: Any) -> bool:
        """X-Hub-Signature-256 (HMAC-SHA256 of the raw bytes), else X-Hub-Signature (SHA-1); constant time."""
        return signature_ok(self.config.app_secret, raw, headers)

    async def webhook(self, request: web.Request) -> web.Response:
        delivery = await read_delivery(request, self.config.app_secret, "Messenger", MAX_BODY_BYTES)
        if delivery.refused is not None:
            return delivery.refused
        body = delivery.body
        events, notes = parse_body(body)
        for note in notes:
            log.info("Messenger webhook: %s", note)
        if self.config.page_id:
            others = [e for e in events if e.page_id and e.page_id != self.config.page_id]
            if others:
                log.warning("Messenger webhook: %d event(s) for other pages ignored", len(others))
            events = [e for e in events if not e.page_id or e.page_id == self.config.page_id]
        if events:
            items = [
                InboxItem(
                    e.key,
                    json.dumps({"item": e.body, "page_id": e.page_id, "standby": e.standby}, ensure_ascii=False),
                    identity_of(e),
                )
                for e in events
            ]
            ids = await self.inbox.enqueue(items, now=self.clock())
            for row_id, event in zip(ids, events, strict=False):
                if row_id is not None:  # None: a redelivery of an event stored before
                    self._dispatch(row_id, event)
        return web.Response(text="EVENT_RECEIVED", content_type="text/plain")

    # ------------------------------------------------------------------ processing

    def _dispatch(self, row_id: int, event: MessengerEvent) -> None:
        self.queues.dispatch(row_id, event.person or ("page", event.page_id), event)

    async def _locale(self, psid: str) -> str | None:
        cached = self._locales.get(psid)
        if cached is not None and (cached[0] is not None or cached[1] > self.clock()):
            self._locales.move_to_end(psid)
            return cached[0]
        locale = await self.graph.profile_locale(psid)
        self._locales[psid] = (locale, self.clock() + 3600)  # no profile: ask again in an hour
        while len(self._locales) > PROFILE_CACHE:
            self._locales.popitem(last=False)
        return locale

    def _inbound(
        self, event: MessengerEvent, identity: Identity, locale: str | None, get_started: bool = False
    ) -> list[Inbound]:
        """What the event means for the thread (zero, one, or two inbounds in order); ``get_started``: the
        postback is the Page's Get Started (see get_started.py)."""
        body, kind, now = event.body, event.kind, event.timestamp or self.clock()
        message_id = f"fb:{event.key}"
        hint = locale_language(locale)
        common: dict[str, Any] = {"message_id": message_id, "language_hint": hint, "timestamp": now}
        metadata: dict[str, Any] = {"mid": event.mid, "page_id": event.page_id}
        if event.standby:
            metadata["standby"] = True
            metadata["observe_only"] = True  # another app owns the thread: watch, never answer
        raw_message = body.get("message")
        message: dict[str, Any] = raw_message if isinstance(raw_message, dict) else {}
        if kind == "echo":
            ours = message.get("metadata") == "threadline" or (
                self.config.app_id and str(message.get("app_id")) == self.config.app_id
            )
            if ours:
                return []  # our own message coming back
            return [
                Inbound(
                    identity,
                    "event",
                    event="agent_message",
                    metadata=metadata,
                    data={"text": message.get("text", ""), "by": "page_inbox", "app_id": message.get("app_id")},
                    **common,
                )
            ]
        if kind == "quick_reply":
            return [
                Inbound(
                    identity,
                    "message",
                    text=str(message["quick_reply"].get("payload") or message.get("text", "")),
                    metadata={**metadata, "display": message.get("text")},
                    **common,
                )
            ]
        if kind == "text":
            if message.get("reply_to"):
                metadata["reply_to"] = message["reply_to"]
            return [Inbound(identity, "message", text=message["text"], metadata=metadata, **common)]
        if kind == "attachments":
            attachments = [a for a in message["attachments"] if isinstance(a, dict)]
            types = {a["type"] for a in attachments if isinstance(a.get("type"), str)}  # junk types are no type
            data: dict[str, Any] = {"attachments": attachments}
            if "location" in types:
                return [Inbound(identity, "event", event="location", data=data, metadata=metadata, **common)]
            if "sticker" in types or message.get("sticker_id"):
                return [
                    Inbound(
                        identity,
                        "event",
                        event="sticker",
                        data={"sticker_id": message.get("sticker_id")},
                        metadata=metadata,
                        **common,
                    )
                ]
            # a photo, file or shared link: recorded, and the fallback flow tells the person what the bot can do
            return [Inbound(identity, "message", text="", metadata={**metadata, **data}, **common)]
        if kind == "postback":
            postback = body["postback"]
            payload = str(postback.get("payload") or "")
            result = []
            referral = postback.get("referral")
            if isinstance(referral, dict):
                result.append(
                    Inbound(
                        identity,
                        "event",
                        event="referral",
                        data=dict(referral),
                        metadata=metadata,
                        **{**common, "message_id": message_id + ":referral"},
                    )
                )
            if get_started:
                # after a referral: greeted only if no flow answered the ref (see _process)
                result.append(Inbound(identity, "event", event="conversation_start", metadata=metadata, **common))
            elif payload:
                result.append(
                    Inbound(
                        identity,
                        "message",
                        text=payload,
                        metadata={**metadata, "display": postback.get("title")},
                        **common,
                    )
                )
            return result
        if kind == "referral":
            return [
                Inbound(identity, "event", event="referral", data=dict(body["referral"]), metadata=metadata, **common)
            ]
        if kind == "optin":
            return [Inbound(identity, "event", event="optin", data=dict(body["optin"]), metadata=metadata, **common)]
        if kind in ("delivery", "read"):
            return [
                Inbound(
                    identity,
                    "event",
                    event="message_delivered" if kind == "delivery" else "message_read",
                    data=dict(body[kind]),
                    metadata=metadata,
                    **common,
                )
            ]
        if kind == "reaction":
            return [
                Inbound(identity, "event", event="reaction", data=dict(body["reaction"]), metadata=metadata, **common)
            ]
        if kind == "handover":
            if "take_thread_control" in body:
                data = {"action": "taken", **obj(body["take_thread_control"])}  # a value not an object: no details
            elif "pass_thread_control" in body:
                data = {"action": "passed", **obj(body["pass_thread_control"])}  # a value not an object: no details
            elif "request_thread_control" in body:
                data = {
                    "action": "requested",
                    **obj(body["request_thread_control"]),
                }  # a value not an object: no details
            else:
                log.info("Messenger app_roles event: %s", body.get("app_roles"))
                return []
            return [Inbound(identity, "event", event="handover", data=data, metadata=metadata, **common)]
        log.info("Messenger event of kind %s skipped", kind)
        return []

    async def _process(self, event: MessengerEvent) -> None:
        identity = identity_of(event)
        if identity is None:
            log.info("Messenger %s event without a person (page-level) skipped", event.kind)
            return
        await self._link_prior_message(event, identity)
        interactive = event.kind in ("text", "quick_reply", "attachments", "postback") and not event.standby
        locale = None
        if interactive and event.psid and self.config.fetch_profile_locale:
            locale = await self._locale(event.psid)
        recipient = recipient_of(identity)
        if interactive and await self.threads.is_handed_off(identity):
            interactive = False  # a person has the chat: no "seen", no typing bubble from the bot
        actions = [
            action
            for action, wanted in (("mark_seen", self.config.mark_seen), ("typing_on", self.config.typing_indicators))
            if wanted and interactive
        ]
        if actions:  # both before the replies; between them the order does not matter
            await asyncio.gather(*(self.graph.send(recipient, {"sender_action": a}) for a in actions))
        answered = False
        get_started = event.kind == "postback" and await self.get_started.recognises(
            event.body["postback"], identity, self.threads, locale_language(locale)
        )
        for inbound in self._inbound(event, identity, locale, get_started):
            inbound = await follow_link(self.threads, inbound, to=CHANNEL)
            if inbound.event == "conversation_start" and answered:
                continue  # a referral flow greeted already
            deliver = functools.partial(self._deliver, recipient, item=event.key, turn=inbound.message_id)
            outcome = await self.threads.turn(inbound, deliver=deliver)
            answered = answered or bool(outcome.outbound)

    async def _link_prior_message(self, event: MessengerEvent, identity: Identity) -> None:
        """A checkbox-plugin user's first message carries the user_ref they opted in with: same thread."""
        prior = event.body.get("prior_message")
        if isinstance(prior, dict) and prior.get("identifier") and event.psid:
            await self.threads.join(identity, Identity(USER_REF_CHANNEL, str(prior["identifier"])))

    async def _deliver(
        self, recipient: dict[str, str], outcome: TurnOutcome, *, item: str, turn: str | None
    ) -> list[ThreadEvent] | None:
        """Replies to something the person just did: inside the 24-hour window by definition.

        Each reply the Send API accepts is marked sent in the inbox item at once (the last one by the
        ``delivered`` event this returns); when the item is processed again after a crash (the turn is a
        duplicate), the replies marked sent are not sent again.
        """
        if not outcome.outbound:
            return None
        skip, mark = await resume_point(self.inbox, outcome, item=item, turn=turn)
        return await self.send_replies(
            recipient,
            outcome.outbound,
            messaging_type="RESPONSE",
            tag=None,
            thread_id=outcome.thread_id,
            skip=skip,
            on_sent=mark,
        )

    async def send_replies(
        self,
        recipient: dict[str, str],
        messages: list[Outbound],
        *,
        messaging_type: str,
        tag: str | None,
        thread_id: str | None = None,
        skip: int = 0,
        on_sent: OnSent | None = None,
    ) -> list[ThreadEvent]:
        """Send in order (from body ``skip`` on); stop at the first failure and return the events to record."""
        if thread_id is not None:  # "Continue on the website" buttons get a fresh link to this thread
            messages = self.threads.resolve_links(thread_id, messages, here=CHANNEL)
        rendered = render_all(messages)
        for adjustment in rendered.adjustments:
            log.warning("Messenger: %s", adjustment)
        event, _mids = await send_bodies(
            self.graph,
            recipient,
            rendered.bodies,
            messaging_type=messaging_type,
            tag=tag,
            channel=CHANNEL,
            now=self.clock(),
            skip=skip,
            on_sent=on_sent,
        )
        return [event]

    def continue_url(self, token: str) -> str | None:
        return messenger_link(self.messenger_page, token) if self.messenger_page else None

    # ------------------------------------------------------------------ outside a turn

    def reach(
        self, thread: ThreadView, *, now: float, tag: str | None = None, by_person: bool = False, live: bool = False
    ) -> Reach:
        """Messenger's policy: the 24-hour window, message tags, HUMAN_AGENT for a person (7 days)."""
        if not any(i.channel in self.identity_channels for i in thread.identities):
            return Reach(CHANNEL, "refused", "no_messenger_identity")
        decision = decide(thread.last_inbound_on(self.identity_channels), now, tag=tag, by_person=by_person)
        return reach_of(CHANNEL, "Messenger", decision)

    async def send(
        self, thread: ThreadView, messages: list[Outbound], reach: Reach, *, committed: tuple[StoredEvent, ...] = ()
    ) -> Sent:
        identities = [i for i in thread.identities if i.channel in self.identity_channels]
        events = await self.send_replies(
            recipient_of(identities[-1]),
            messages,
            messaging_type=reach.detail["messaging_type"],
            tag=reach.detail["tag"],
        )
        failures = [e for e in events if e.kind == "delivery_failed"]
        return Sent(ok=not failures, events=tuple(events), reason=failures[0].data["reason"] if failures else "")
