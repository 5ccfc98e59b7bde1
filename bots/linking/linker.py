"""Linking identities to threads: redeeming link tokens and merging two threads of one customer.

Connectors call this before a turn, never inside one: it takes the
identity's lock and then the locks of both threads involved, always in the
same (sorted) order, so it cannot deadlock with a turn (which holds one
thread lock at a time) or with another link.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Awaitable, Callable

from bots.linking.buttons import messenger_link, resolve_continue_buttons, site_link
from bots.linking.merge import MergeInput, merge_threads
from bots.linking.tokens import LinkRefused, LinkTokens, Purpose
from bots.store.base import ThreadLock, ThreadStore
from bots.types import Identity, Outbound

log = logging.getLogger(__name__)
MERGE_PAGE = 5000

# Told after a merge (survivor, merged id), e.g. so open chat windows of both reload the merged thread.
OnMerged = Callable[[str, str], Awaitable[None]]


@dataclass(frozen=True)
class LinkResult:
    thread_id: str  # where the identity's conversation now lives
    merged_from: str | None = None  # the identity's previous thread, folded into thread_id
    already_linked: bool = False  # the identity was on that thread already (a second click, a reload)


class ThreadLinker:
    def __init__(self, store: ThreadStore, locks: ThreadLock, tokens: LinkTokens, *, messenger_page: str = "",
                 site_url: str = "", clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.locks = locks
        self.tokens = tokens
        self.messenger_page = messenger_page
        self.site_url = site_url
        self.clock = clock
        self.on_merged: list[OnMerged] = []

    def issue(self, thread_id: str, purpose: Purpose) -> str:
        return self.tokens.issue(thread_id, purpose)

    def link_url(self, thread_id: str, channel: str) -> str | None:
        """A fresh link that continues ``thread_id`` on ``channel``; None when that cannot be linked to."""
        if channel == "messenger" and self.messenger_page:
            return messenger_link(self.messenger_page, self.issue(thread_id, "to_messenger"))
        if channel == "web" and self.site_url:
            return site_link(self.site_url, self.issue(thread_id, "to_web"))
        return None

    def resolve_buttons(self, thread_id: str, messages: list[Outbound], here: str) -> list[Outbound]:
        """``continue`` buttons as links for sending on channel ``here`` (one to ``here`` itself is left out)."""
        return resolve_continue_buttons(
            messages, lambda channel: None if channel == here else self.link_url(thread_id, channel))

    async def current(self, thread_id: str) -> str:
        """Where a thread id lives now: itself, or the thread it was merged into."""
        return await self.store.merged_into(thread_id) or thread_id

    async def redeem(self, token: str, purpose: Purpose, identity: Identity) -> LinkResult:
        """Put ``identity`` on the thread the token names; raises :class:`LinkRefused` for any bad token.

        A token is good once. The same person following the same link again
        (a page reload, Facebook redelivering the event after a crash) is not
        a replay worth refusing: the link is already made, and that is the
        answer.
        """
        claim = self.tokens.read(token, purpose)
        async with self.locks.lock(f"identity:{identity.channel}:{identity.user_id}"):
            target = await self.current(claim.thread_id)
            if await self.store.load(target) is None and not await self.store.identities(target):
                raise LinkRefused("gone", "the conversation this link belongs to no longer exists")
            current = await self.store.find(identity)
            fresh = await self.store.consume_token(claim.nonce, expires_at=claim.expires_at, now=self.clock())
            if not fresh:
                if current == target:
                    return LinkResult(target, already_linked=True)
                raise LinkRefused("replayed", "this link was used already")
            return await self._join(identity, current, target, reason=f"link_{purpose}")

    async def join(self, identity: Identity, thread_id: str, *, reason: str) -> LinkResult:
        """Put ``identity`` on ``thread_id``, folding the thread it had into it (signed identities)."""
        async with self.locks.lock(f"identity:{identity.channel}:{identity.user_id}"):
            target = await self.current(thread_id)
            return await self._join(identity, await self.store.find(identity), target, reason=reason)

    async def _join(self, identity: Identity, current: str | None, target: str, *, reason: str) -> LinkResult:
        if current == target:
            return LinkResult(target, already_linked=True)
        if current is None or await self.store.load(current) is None:
            await self.store.link(identity, target, now=self.clock())
            log.info("linked %s:%s to thread %s (%s)", identity.channel, identity.user_id, target, reason)
            return LinkResult(target)
        await self.merge(target, current, reason=reason)
        return LinkResult(target, merged_from=current)

    async def merge(self, into: str, source: str, *, reason: str) -> dict[str, object]:
        """Fold ``source`` into ``into`` (see bots.linking.merge for the rule); returns the merge record."""
        first, second = sorted((into, source))
        async with self.locks.lock(f"thread:{first}"), self.locks.lock(f"thread:{second}"):
            inputs = []
            versions = []
            for thread_id in (into, source):
                snapshot = await self.store.load(thread_id)
                events = []
                while True:
                    page = await self.store.events(thread_id, after=len(events), limit=MERGE_PAGE)
                    events += [stored.event for stored in page]
                    if len(page) < MERGE_PAGE:
                        break
                inputs.append(MergeInput(thread_id, snapshot.state if snapshot else {}, events))
                versions.append(snapshot.version if snapshot else 0)
            now = self.clock()
            merged = merge_threads(inputs[0], inputs[1], reason=reason, now=now)
            await self.store.merge_threads(into, source, merged.events, merged.state,
                                           expected_versions=(versions[0], versions[1]), now=now)
        log.info("merged thread %s into %s (%s): %d event(s) moved", source, into, reason,
                 merged.record["events_moved"])
        for listener in self.on_merged:
            try:
                await listener(into, source)
            except Exception:  # a listener (a chat window to refresh) must not undo a finished merge
                log.exception("a listener failed after merging %s into %s", source, into)
        return merged.record
