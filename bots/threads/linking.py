"""Linking identities to threads: redeeming link tokens and merging two threads of one customer.

Part of the thread unit of work: it runs before a turn, never inside one. It
takes the identity's lock and then the locks of both threads involved, always
in the same (sorted) order, so it cannot deadlock with a turn (which holds one
thread lock at a time) or with another link.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bots.linking.buttons import resolve_continue_buttons
from bots.linking.merge import MergeInput, merge_threads
from bots.linking.tokens import LinkRefused, LinkTokens, Purpose
from bots.store.base import ThreadLock, ThreadStore
from bots.threads.keys import identity_key, thread_key
from bots.types import Identity, Outbound, ThreadEvent

log = logging.getLogger(__name__)
MERGE_PAGE = 5000
CONVERSATION_KINDS = ("user", "bot", "agent")  # a thread with any of these is a conversation worth protecting

# Told after a merge (survivor, merged id), e.g. so open chat windows of both reload the merged thread.
OnMerged = Callable[[str, str], Awaitable[None]]


@dataclass(frozen=True)
class LinkResult:
    thread_id: str  # where the identity's conversation now lives
    merged_from: str | None = None  # the identity's previous thread, folded into thread_id
    already_linked: bool = False  # the identity was on that thread already (a second click, a reload)
    needs_confirmation: bool = False  # the person has a conversation of their own: ask before joining


class ThreadLinker:
    def __init__(
        self,
        store: ThreadStore,
        locks: ThreadLock,
        tokens: LinkTokens,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.locks = locks
        self.tokens = tokens
        self.clock = clock
        self.on_merged: list[OnMerged] = []
        # How each running channel makes its "continue here" URL from a token (m.me, ig.me, the site), by name.
        self.channel_links: dict[str, Callable[[str], str | None]] = {}
        # Links waiting for their person's yes (Messenger asks with quick replies), by identity. In memory:
        # after a restart the person follows the link again.
        self._held: dict[Identity, tuple[str, Purpose, float]] = {}

    def hold(self, identity: Identity, token: str, purpose: Purpose) -> None:
        """Keep a link that needs its person's confirmation, until it would expire anyway."""
        now = self.clock()
        for held, (_t, _p, until) in list(self._held.items()):
            if until < now:
                del self._held[held]
        self._held[identity] = (token, purpose, now + self.tokens.ttl_seconds)

    def take(self, identity: Identity) -> tuple[str, Purpose] | None:
        """The link this identity was asked about (once), None when there is none or it expired."""
        held = self._held.pop(identity, None)
        if held is None or held[2] < self.clock():
            return None
        return held[0], held[1]

    def issue(self, thread_id: str, purpose: Purpose) -> str:
        return self.tokens.issue(thread_id, purpose)

    def offers(self, channel: str) -> bool:
        """Whether links continuing a thread on ``channel`` can be made (its Page, site or account is configured)."""
        make = self.channel_links.get(channel)
        return make is not None and make("") is not None

    def link_url(self, thread_id: str, channel: str) -> str | None:
        """A fresh link that continues ``thread_id`` on ``channel``; None when that cannot be linked to."""
        if not self.offers(channel):
            return None
        return self.channel_links[channel](self.issue(thread_id, f"to_{channel}"))

    def resolve_buttons(self, thread_id: str, messages: list[Outbound], here: str) -> list[Outbound]:
        """``continue`` buttons as links for sending on channel ``here`` (one to ``here`` itself is left out)."""
        return resolve_continue_buttons(
            messages, lambda channel: None if channel == here else self.link_url(thread_id, channel)
        )

    async def redeem(self, token: str, purpose: Purpose, identity: Identity, *, confirmed: bool = False) -> LinkResult:
        """Put ``identity`` on the thread the token names; raises :class:`LinkRefused` for any bad token.

        A link is a credential for its thread: whoever follows it joins that
        conversation. So a person who already has a conversation here, or a
        signed-in customer, must confirm first (``needs_confirmation``; the
        token stays unused): a link someone else sent them must never fold
        their own chat into a stranger's.

        A token is good once. The same person following it again (a page
        reload, Facebook redelivering the event after a crash) is not a
        replay: the link is made again if it was not finished, else nothing
        happens.
        """
        claim = self.tokens.read(token, purpose)
        async with self.locks.lock(identity_key(identity)):
            target = await self.store.current(claim.thread_id)
            if await self.store.load(target) is None and not await self.store.identities(target):
                raise LinkRefused("gone", "the conversation this link belongs to no longer exists")
            current = await self.store.find(identity)
            if current != target and not confirmed and await self._needs_confirmation(identity, current):
                return LinkResult(target, needs_confirmation=True)
            if not await self.store.consume_token(
                claim.nonce, expires_at=claim.expires_at, now=self.clock(), by=f"{identity.channel}:{identity.user_id}"
            ):
                raise LinkRefused("replayed", "this link was used already")
            return await self._join(identity, target, reason=f"link_{purpose}")

    async def _needs_confirmation(self, identity: Identity, current: str | None) -> bool:
        if identity.channel == "customer":
            return True  # a signed-in account is never moved by a link alone
        return current is not None and bool(await self.store.tail(current, CONVERSATION_KINDS, 1))

    async def join(self, identity: Identity, thread_id: str, *, reason: str) -> LinkResult:
        """Put ``identity`` on ``thread_id``, folding the thread it had into it."""
        async with self.locks.lock(identity_key(identity)):
            return await self._join(identity, thread_id, reason=reason)

    async def _join(self, identity: Identity, target: str, *, reason: str) -> LinkResult:
        """The caller holds the identity's lock; another identity of either thread may merge meanwhile."""
        for _attempt in range(5):
            target = await self.store.current(target)
            current = await self.store.find(identity)
            if current == target:
                return LinkResult(target, already_linked=True)
            if current is None or await self.store.load(current) is None:
                await self.store.link(identity, target, now=self.clock())
                log.info("linked %s:%s to thread %s (%s)", identity.channel, identity.user_id, target, reason)
                return LinkResult(target)
            if await self.merge(target, current, reason=reason) is not None:
                return LinkResult(target, merged_from=current)
        raise RuntimeError(f"could not link {identity.channel}:{identity.user_id} to {target}: threads kept moving")

    async def merge(self, into: str, source: str, *, reason: str) -> dict[str, object] | None:
        """Fold ``source`` into ``into`` (see bots.linking.merge for the rule); returns the merge record.

        None when, by the time both locks are held, either thread was merged
        elsewhere or is gone: the caller looks again.
        """
        first, second = sorted((into, source))
        async with self.locks.lock(thread_key(first)), self.locks.lock(thread_key(second)):
            if into == source or await self.store.merged_into(into) or await self.store.merged_into(source):
                return None
            inputs = []
            versions = []
            for thread_id in (into, source):
                snapshot = await self.store.load(thread_id)
                events: list[ThreadEvent] = []
                while True:
                    page = await self.store.events(thread_id, after=len(events), limit=MERGE_PAGE)
                    events += [stored.event for stored in page]
                    if len(page) < MERGE_PAGE:
                        break
                inputs.append(MergeInput(thread_id, snapshot.state if snapshot else {}, events))
                versions.append(snapshot.version if snapshot else 0)
            if versions[1] == 0:
                return None  # nothing to fold in (deleted meanwhile)
            now = self.clock()
            merged = merge_threads(inputs[0], inputs[1], reason=reason, now=now)
            await self.store.merge_threads(
                into,
                source,
                merged.events,
                merged.state,
                expected_versions=(versions[0], versions[1]),
                now=now,
                wake_at=merged.state.get("wake_at"),
            )
        log.info(
            "merged thread %s into %s (%s): %d event(s) moved", source, into, reason, merged.record["events_moved"]
        )
        for listener in self.on_merged:
            try:
                await listener(into, source)
            except Exception:  # a listener (a chat window to refresh) must not undo a finished merge
                log.exception("a listener failed after merging %s into %s", source, into)
        return merged.record
