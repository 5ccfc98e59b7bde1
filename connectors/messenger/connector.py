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
import dataclasses
import json
import logging
import time
from collections import OrderedDict, deque
from typing import Any, Callable

from aiohttp import web

from bots.linking.tokens import LinkRefused, is_link_token
from bots.pipeline import TurnOutcome, outbound_event
from bots.runtime import Runtime
from bots.types import Identity, Inbound, Outbound, ThreadEvent
from connectors.messenger.graph import GraphClient, SendResult
from connectors.messenger.parse import MessengerEvent, locale_language, parse_body, parse_item
from connectors.messenger.policy import decide
from connectors.messenger.render import render_all
from connectors.meta.signature import read_delivery, signature_ok, verification

log = logging.getLogger(__name__)
CHANNEL = "messenger"
USER_REF_CHANNEL = "messenger_ref"
MAX_BODY_BYTES = 1024 * 1024
GET_STARTED = "__GET_STARTED__"
LINK_ACCEPT, LINK_DECLINE = "/link_accept", "/link_decline"  # the answers to "join the chat from the website?"
PROFILE_CACHE = 50_000


def identity_of(event: MessengerEvent) -> Identity | None:
    if event.psid:
        return Identity(CHANNEL, event.psid)
    if event.user_ref:
        return Identity(USER_REF_CHANNEL, event.user_ref)
    return None


def recipient_of(identity: Identity) -> dict[str, str]:
    return {"id": identity.user_id} if identity.channel == CHANNEL else {"user_ref": identity.user_id}


class MessengerConnector:
    name = CHANNEL

    def __init__(self, runtime: Runtime, graph: GraphClient, clock: Callable[[], float] = time.time) -> None:
        self.runtime = runtime
        self.config = runtime.config.connectors.messenger
        self.graph = graph
        self.clock = clock
        self._queues: dict[tuple[str, str], deque[tuple[int, MessengerEvent]]] = {}
        self._workers: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._done: list[int] = []
        self._locales: OrderedDict[str, tuple[str | None, float]] = OrderedDict()
        self._flusher: asyncio.Task[None] | None = None
        self.processed = 0  # events fully processed (for tests and benchmarks)

    # ------------------------------------------------------------------ lifetime

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/webhooks/messenger", self.verify), web.post("/webhooks/messenger", self.webhook)]

    async def start(self) -> None:
        """Process what a previous run stored but did not finish (crash recovery)."""
        pending = await self.runtime.store.pending_inbound(CHANNEL, limit=100_000)
        if pending:
            log.info("Messenger: processing %d event(s) left from the last run", len(pending))
        for row_id, payload in pending:
            data = json.loads(payload)
            self._dispatch(row_id, parse_item(data["item"], data["page_id"], data["standby"]))

    async def stop(self) -> None:
        while self._workers:
            await asyncio.gather(*list(self._workers.values()), return_exceptions=True)
        await self._flush_done()

    async def idle(self) -> None:
        """Wait until every stored event has been processed (tests and benchmarks)."""
        while self._workers or self._queues:
            await asyncio.gather(*list(self._workers.values()), return_exceptions=True)
            await asyncio.sleep(0)
        await self._flush_done()

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
            items = [(e.key, json.dumps({"item": e.body, "page_id": e.page_id, "standby": e.standby},
                                        ensure_ascii=False)) for e in events]
            ids = await self.runtime.store.enqueue_inbound(CHANNEL, items, now=self.clock())
            for row_id, event in zip(ids, events):
                if row_id is not None:  # None: a redelivery of an event stored before
                    self._dispatch(row_id, event)
        return web.Response(text="EVENT_RECEIVED", content_type="text/plain")

    # ------------------------------------------------------------------ processing

    def _dispatch(self, row_id: int, event: MessengerEvent) -> None:
        key = event.person or ("page", event.page_id)
        self._queues.setdefault(key, deque()).append((row_id, event))
        if key not in self._workers:
            self._workers[key] = asyncio.create_task(self._drain(key))

    async def _drain(self, key: tuple[str, str]) -> None:
        queue = self._queues[key]
        try:
            while queue:
                row_id, event = queue.popleft()
                try:
                    await self._process(event)
                except Exception:  # one bad event must not stop this person's later events
                    log.exception("Messenger event %s could not be processed; it stays in the inbox for the next "
                                  "start", event.key)
                else:
                    self._done.append(row_id)
                self.processed += 1
                if len(self._done) >= 200:
                    await self._flush_done()
                elif self._flusher is None or self._flusher.done():
                    self._flusher = asyncio.create_task(self._flush_later())
        finally:
            del self._queues[key]
            del self._workers[key]

    async def _flush_later(self) -> None:
        await asyncio.sleep(0.2)
        await self._flush_done()

    async def _flush_done(self) -> None:
        done, self._done = self._done, []
        if done:
            await self.runtime.store.finish_inbound(done, now=self.clock())

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

    def _inbound(self, event: MessengerEvent, identity: Identity, locale: str | None) -> list[Inbound]:
        """What the event means for the thread (zero, one, or two inbounds in order)."""
        body, kind, now = event.body, event.kind, event.timestamp or self.clock()
        message_id = f"fb:{event.key}"
        hint = locale_language(locale)
        common: dict[str, Any] = {"message_id": message_id, "language_hint": hint, "timestamp": now}
        metadata: dict[str, Any] = {"mid": event.mid, "page_id": event.page_id}
        if event.standby:
            metadata["standby"] = True
            metadata["observe_only"] = True  # another app owns the thread: watch, never answer
        message = body.get("message") if isinstance(body.get("message"), dict) else {}
        if kind == "echo":
            ours = message.get("metadata") == "threadline" or (
                self.config.app_id and str(message.get("app_id")) == self.config.app_id)
            if ours:
                return []  # our own message coming back
            return [Inbound(identity, "event", event="agent_message", metadata=metadata, data={
                "text": message.get("text", ""), "by": "page_inbox", "app_id": message.get("app_id")}, **common)]
        if kind == "quick_reply":
            return [Inbound(identity, "message", text=str(message["quick_reply"].get("payload") or message.get("text", "")),
                            metadata={**metadata, "display": message.get("text")}, **common)]
        if kind == "text":
            if message.get("reply_to"):
                metadata["reply_to"] = message["reply_to"]
            return [Inbound(identity, "message", text=message["text"], metadata=metadata, **common)]
        if kind == "attachments":
            attachments = [a for a in message["attachments"] if isinstance(a, dict)]
            types = {a.get("type") for a in attachments}
            data = {"attachments": attachments}
            if "location" in types:
                return [Inbound(identity, "event", event="location", data=data, metadata=metadata, **common)]
            if "sticker" in types or message.get("sticker_id"):
                return [Inbound(identity, "event", event="sticker", data={"sticker_id": message.get("sticker_id")},
                                metadata=metadata, **common)]
            # a photo, file or shared link: recorded, and the fallback flow tells the person what the bot can do
            return [Inbound(identity, "message", text="", metadata={**metadata, **data}, **common)]
        if kind == "postback":
            postback = body["postback"]
            payload = str(postback.get("payload") or "")
            result = []
            referral = postback.get("referral")
            if isinstance(referral, dict):
                result.append(Inbound(identity, "event", event="referral", data=dict(referral),
                                      metadata=metadata, **{**common, "message_id": message_id + ":referral"}))
            if payload == GET_STARTED:
                # after a referral: greeted only if no flow answered the ref (see _process)
                result.append(Inbound(identity, "event", event="conversation_start", metadata=metadata, **common))
            elif payload:
                result.append(Inbound(identity, "message", text=payload,
                                      metadata={**metadata, "display": postback.get("title")}, **common))
            return result
        if kind == "referral":
            return [Inbound(identity, "event", event="referral", data=dict(body["referral"]), metadata=metadata,
                            **common)]
        if kind == "optin":
            return [Inbound(identity, "event", event="optin", data=dict(body["optin"]), metadata=metadata, **common)]
        if kind in ("delivery", "read"):
            return [Inbound(identity, "event", event="message_delivered" if kind == "delivery" else "message_read",
                            data=dict(body[kind]), metadata=metadata, **common)]
        if kind == "reaction":
            return [Inbound(identity, "event", event="reaction", data=dict(body["reaction"]), metadata=metadata,
                            **common)]
        if kind == "handover":
            if "take_thread_control" in body:
                data = {"action": "taken", **(body["take_thread_control"] or {})}
            elif "pass_thread_control" in body:
                data = {"action": "passed", **(body["pass_thread_control"] or {})}
            elif "request_thread_control" in body:
                data = {"action": "requested", **(body["request_thread_control"] or {})}
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
        if interactive and await self._handed_off(identity):
            interactive = False  # a person has the chat: no "seen", no typing bubble from the bot
        actions = [action for action, wanted in (("mark_seen", self.config.mark_seen),
                                                 ("typing_on", self.config.typing_indicators)) if wanted and interactive]
        if actions:  # both before the replies; between them the order does not matter
            await asyncio.gather(*(self.graph.send(recipient, {"sender_action": a}) for a in actions))
        answered = False
        for inbound in self._inbound(event, identity, locale):
            inbound = await self._redeem_link(inbound)
            if inbound.event == "conversation_start" and answered:
                continue  # a referral flow greeted already
            outcome = await self.runtime.pipeline.handle(
                inbound, deliver=lambda outcome: self._deliver(recipient, outcome))
            answered = answered or bool(outcome.outbound)

    async def _redeem_link(self, inbound: Inbound) -> Inbound:
        """A ``ref`` holding a link token ("Continue in Messenger" on the website): join that thread.

        The event then reaches the flows as ``thread_linked`` (or
        ``link_refused`` with the reason), never as a referral carrying the
        token, so flows can greet with what the customer did on the website.
        A person who already chats here is asked first (``link_confirm``; the
        quick replies ``/link_accept`` and ``/link_decline`` answer it).
        """
        identity = inbound.identity
        if inbound.kind == "message" and inbound.text.strip() in (LINK_ACCEPT, LINK_DECLINE):
            held = self.runtime.linker.take(identity)
            if inbound.text.strip() == LINK_DECLINE:
                return inbound  # the flows say that this chat goes on as it was
            if held is None:
                return dataclasses.replace(inbound, kind="event", text="", event="link_refused",
                                           data={"reason": "expired", "from": "web"})
            return await self._link(inbound, held[0], confirmed=True, context={})
        ref = inbound.data.get("ref") if inbound.event in ("referral", "optin") else None
        if not is_link_token(ref):
            return inbound
        context = {k: inbound.data[k] for k in ("source", "type", "referer_uri") if k in inbound.data}
        return await self._link(inbound, str(ref), confirmed=False, context=context)

    async def _link(self, inbound: Inbound, token: str, *, confirmed: bool, context: dict[str, Any]) -> Inbound:
        identity = inbound.identity
        try:
            result = await self.runtime.linker.redeem(token, "to_messenger", identity, confirmed=confirmed)
        except LinkRefused as exc:
            log.warning("Messenger %s:%s: link refused (%s: %s)", identity.channel, identity.user_id, exc.reason,
                        exc.detail)
            return dataclasses.replace(inbound, kind="event", text="", event="link_refused",
                                       data={"reason": exc.reason, "from": "web", **context})
        if result.needs_confirmation:
            self.runtime.linker.hold(identity, token, "to_messenger")
            return dataclasses.replace(inbound, kind="event", text="", event="link_confirm",
                                       data={"from": "web", **context})
        return dataclasses.replace(inbound, kind="event", text="", event="thread_linked", data={
            "from": "web", "merged": result.merged_from is not None, "again": result.already_linked, **context})

    async def _handed_off(self, identity: Identity) -> bool:
        thread_id = await self.runtime.store.find(identity)
        snapshot = await self.runtime.store.load(thread_id) if thread_id else None
        return bool(snapshot and snapshot.state.get("handoff"))

    async def _link_prior_message(self, event: MessengerEvent, identity: Identity) -> None:
        """A checkbox-plugin user's first message carries the user_ref they opted in with: same thread."""
        prior = event.body.get("prior_message")
        if not (isinstance(prior, dict) and prior.get("identifier") and event.psid):
            return
        store = self.runtime.store
        ref_thread = await store.find(Identity(USER_REF_CHANNEL, str(prior["identifier"])))
        if ref_thread is not None and await store.find(identity) is None:
            await store.link(identity, ref_thread, now=self.clock())

    async def _deliver(self, recipient: dict[str, str], outcome: TurnOutcome) -> list[ThreadEvent] | None:
        """Replies to something the person just did: inside the 24-hour window by definition."""
        if not outcome.outbound:
            return None
        return await self.send(recipient, outcome.outbound, messaging_type="RESPONSE", tag=None,
                               thread_id=outcome.thread_id)

    async def send(self, recipient: dict[str, str], messages: list[Outbound], *, messaging_type: str,
                   tag: str | None, thread_id: str | None = None) -> list[ThreadEvent]:
        """Send in order; stop at the first failure and return the events to record about it."""
        if thread_id is not None:  # "Continue on the website" buttons get a fresh link to this thread
            messages = self.runtime.linker.resolve_buttons(thread_id, messages, here=CHANNEL)
        rendered = render_all(messages)
        for adjustment in rendered.adjustments:
            log.warning("Messenger: %s", adjustment)
        now = self.clock()
        for index, body in enumerate(rendered.bodies):
            result: SendResult = await self.graph.send(recipient, body, messaging_type=messaging_type, tag=tag)
            if not result.ok:
                return [ThreadEvent("delivery_failed", {
                    "channel": CHANNEL, "reason": result.reason, "code": result.code, "subcode": result.subcode,
                    "message": result.message, "attempts": result.attempts,
                    "unsent": len(rendered.bodies) - index}, now, CHANNEL)]
        # the proof a restart looks for: without it, a redelivered event sends these replies again
        return [ThreadEvent("delivered", {"channel": CHANNEL, "messages": len(rendered.bodies)}, now, CHANNEL)]

    async def send_to_thread(self, thread_id: str, messages: list[Outbound], *, by_person: str | None = None,
                             tag: str | None = None) -> dict[str, Any]:
        """Send outside a turn (a person's reply, a follow-up), under the messaging policy; records the outcome."""
        runtime = self.runtime
        async with runtime.pipeline.locks.lock(f"thread:{thread_id}"):
            snapshot = await runtime.store.load(thread_id)
            if snapshot is None:
                return {"sent": False, "reason": "no_messenger_identity"}
            result, events = await self.send_outside_turn(thread_id, snapshot.state, messages, by_person=by_person,
                                                          tag=tag)
            if result.get("reason") == "no_messenger_identity":
                return result
            now = self.clock()
            if result["sent"] or result.get("attempted"):
                events = [outbound_event(m, now, CHANNEL, by_person) for m in messages] + [
                    e for e in events if e.kind == "delivery_failed"]
            await runtime.store.commit(thread_id, snapshot.state, events, expected_version=snapshot.version, now=now)
            result.pop("attempted", None)
            return result

    async def send_outside_turn(self, thread_id: str, state: dict[str, Any], messages: list[Outbound], *,
                                by_person: str | None = None, tag: str | None = None
                                ) -> tuple[dict[str, Any], list[ThreadEvent]]:
        """Policy check and send, the caller holding the thread's lock; returns the result and events to record.

        The events are a refusal, a failed delivery or the ``delivered`` marker;
        the messages themselves are recorded by the caller (a turn has already
        committed them).
        """
        identities = [i for i in await self.runtime.store.identities(thread_id)
                      if i.channel in (CHANNEL, USER_REF_CHANNEL)]
        if not identities:
            return {"sent": False, "reason": "no_messenger_identity"}, []
        now = self.clock()
        seen = state.get("last_inbound_by_channel") or {}
        last = max([seen[c] for c in (CHANNEL, USER_REF_CHANNEL) if c in seen], default=None)
        decision = decide(last, now, tag=tag or state.get("message_tag"), by_person=by_person is not None)
        if not decision.allowed:
            return {"sent": False, "reason": decision.reason}, [
                ThreadEvent("send_refused", {"channel": CHANNEL, "reason": decision.reason, "by": by_person},
                            now, CHANNEL)]
        events = await self.send(recipient_of(identities[-1]), messages, messaging_type=decision.messaging_type,
                                 tag=decision.tag, thread_id=thread_id)
        failures = [e for e in events if e.kind == "delivery_failed"]
        result: dict[str, Any] = {"sent": not failures, "messaging_type": decision.messaging_type,
                                  "tag": decision.tag, "attempted": True}
        if failures:
            result["reason"] = failures[0].data["reason"]
        return result, events
