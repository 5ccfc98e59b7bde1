"""The thread unit of work: the only code that takes thread locks and touches the store.

Channels reach threads only through this class (it implements
:class:`connectors.base.ThreadAccess`); the server's admin API, reminders and
campaigns use it too. Turns, identity resolution, linking and merging,
history, and every send outside a turn go through here, with the locks taken
in one order: an identity's before its thread's, two threads' sorted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bots.flow.state import ThreadState
from bots.linking.tokens import LinkRefused, Purpose
from bots.pipeline import Pipeline
from bots.store.base import ConflictError, ThreadLock, ThreadStore, new_thread_id
from bots.store.locked import LockedThread
from bots.store.lru import LRU
from bots.threads.inbox import ChannelInbox
from bots.threads.keys import identity_key, thread_key
from bots.threads.linking import CONVERSATION_KINDS, ThreadLinker
from bots.threads.outside import OutsideTurn
from bots.types import Deliver, Identity, Inbound, NLUResult, Outbound, TurnOutcome
from connectors.base import Channel, History, LinkRedeemed

log = logging.getLogger(__name__)
CUSTOMER_CHANNEL = "customer"
KNOWN_IDENTITIES = 100_000  # a signed-in customer of the business's website: one thread on every device


class Threads(OutsideTurn):
    def __init__(
        self,
        store: ThreadStore,
        locks: ThreadLock,
        pipeline: Pipeline,
        linker: ThreadLinker,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.locks = locks
        self.pipeline = pipeline
        self.linker = linker
        self.clock = clock
        self.channels: dict[str, Channel] = {}
        # told of every committed turn and send while the thread's lock is held (the agent inbox's queue)
        self.observers: list[Callable[[TurnOutcome], Awaitable[None]]] = []
        # Which thread an identity had at its last turn in this process: a guess that saves the store a lookup
        # (a round trip on PostgreSQL and Redis), checked under the thread's lock like any other answer.
        self._known: LRU[Identity, str] = LRU(KNOWN_IDENTITIES)
        linker.on_merged.append(self._rewritten)

    def attach(self, channels: list[Channel]) -> None:
        """The channels the server runs (built from the registry); they deliver and mirror turns."""
        self.channels = {channel.name: channel for channel in channels}
        self.linker.channel_links = {channel.name: channel.continue_url for channel in channels}

    def channel_of(self, identity_channel: str) -> Channel | None:
        return next((c for c in self.channels.values() if identity_channel in c.identity_channels), None)

    def locked(self, thread_id: str, *, new: bool = False) -> LockedThread:
        """The handle of a thread whose lock the caller took with :meth:`lock` (``new``: see LockedThread)."""
        return LockedThread(self.store, thread_id, self.clock, new=new)

    def lock(self, thread_id: str) -> Any:
        return self.locks.lock(thread_key(thread_id))

    # ------------------------------------------------------------------ turns

    async def turn(self, inbound: Inbound, deliver: Deliver | None = None) -> TurnOutcome:
        identity = inbound.identity
        async with self.locks.lock(identity_key(identity)):
            known = self._known.get_fresh(identity)
            thread_id, new = (known, False) if known else await self.store.resolve_or_create(identity, now=self.clock())
            while True:
                async with self.lock(thread_id):
                    # A merge (here or in another worker) may have moved the identity since it was known, or
                    # while this waited for the lock. Not a thread just made for it under its lock: no one
                    # else can know that one yet (nothing links or merges into a thread before its first turn,
                    # and a merge waits for its lock; should one take it away all the same, from a worker that
                    # outlived its lock's lease, the store refuses the first commit and the turn comes back here
                    # to resolve the identity again).
                    if new or await self.store.find(identity) == thread_id:
                        self._known.put(identity, thread_id)
                        outcome = await self._redoing_conflicts(thread_id, inbound, deliver, new=new)
                        if outcome is not None:
                            if not outcome.duplicate:
                                await self.mirror(outcome)
                            return outcome
                self._known.pop(identity, None)
                thread_id, new = await self.store.resolve_or_create(identity, now=self.clock())

    async def _redoing_conflicts(
        self, thread_id: str, inbound: Inbound, deliver: Deliver | None, *, new: bool = False
    ) -> TurnOutcome | None:
        """The turn, done again on the thread as it now is if someone wrote to it under our lock; None when the
        identity has left the thread meanwhile (the caller resolves it again and does the turn there).

        That someone is a worker that lost the lock (frozen past its lease) and woke up: the version check
        refuses whichever of the two commits comes second, and when that is ours, the customer's message
        must still be answered, not dropped. Or, for a thread just made (``new``: nothing re-checked), such a
        worker merged it away before its first commit, which the store refuses (ThreadLog.commit): the message
        then belongs in the thread it was merged into.
        """
        for attempt in range(1, 4):
            try:
                return await self.pipeline.turn(self.locked(thread_id, new=new and attempt == 1), inbound, deliver)
            except ConflictError:
                if await self.store.find(inbound.identity) != thread_id:
                    log.warning(
                        "%s:%s left thread %s (a merge) before this turn committed; doing the turn where it went",
                        inbound.identity.channel,
                        inbound.identity.user_id,
                        thread_id,
                    )
                    return None
                if attempt == 3:
                    raise
                log.warning(
                    "thread %s changed while this worker held its lock (another one lost the lock and "
                    "wrote); doing the turn again",
                    thread_id,
                )
        raise AssertionError("unreachable")

    async def mirror(self, outcome: TurnOutcome, *, skip: str = "") -> None:
        """Channels that show a thread's every turn (open chat windows) get those of other channels too, and
        what was sent outside a turn on another channel (``skip``: the one that sent it)."""
        if not outcome.committed:
            return
        for observe in self.observers:
            try:
                await observe(outcome)
            except Exception:  # a record to update must not fail what is saved and sent
                log.exception("an observer failed on a turn of thread %s", outcome.thread_id)
        for channel in self.channels.values():
            if channel.mirrors and channel.name != skip and outcome.channel not in channel.identity_channels:
                try:
                    await channel.deliver(outcome)
                except Exception:  # a window to refresh must not fail what is saved and sent
                    log.exception("%s could not show a turn of thread %s", channel.name, outcome.thread_id)

    async def understand(self, text: str, identity: Identity | None, language_hint: str | None) -> NLUResult:
        thread_language = None
        if identity is not None:
            thread_id = await self.store.find(identity)
            snapshot = await self.store.load(thread_id) if thread_id else None
            thread_language = snapshot.state.get("language") if snapshot else None
        return await self.pipeline.understand(text, thread_language, language_hint)

    # ------------------------------------------------------------------ identities

    async def find(self, identity: Identity) -> str | None:
        return await self.store.find(identity)

    async def is_handed_off(self, identity: Identity) -> bool:
        thread_id = await self.store.find(identity)
        snapshot = await self.store.load(thread_id) if thread_id else None
        return bool(snapshot and snapshot.state.get("handoff"))

    async def open_thread(self, identity: Identity, *, signed_in: Identity | None = None) -> str:
        """The thread a chat window shows: the signed-in customer's own (the same on every device), else the
        visitor's. A visitor who signs in for the first time brings their anonymous chat along; the browser
        then gets a fresh anonymous thread, so after signing out (on a shared computer) nothing of the
        customer's is shown."""
        now = self.clock()
        if signed_in is None:
            return await self.store.resolve(identity, now=now)
        async with self.locks.lock(identity_key(signed_in)), self.locks.lock(identity_key(identity)):
            customer_thread = await self.store.find(signed_in)
            anonymous = await self.store.find(identity)
            if customer_thread is not None:
                if anonymous is not None and anonymous != customer_thread and await self._conversation(anonymous):
                    # signed in on a device where they chatted anonymously: one customer, one thread
                    await self.linker.merge(customer_thread, anonymous, reason="signed_identity")
                    await self.store.link(identity, new_thread_id(), now=now)
                return customer_thread
            if anonymous is not None and await self._conversation(anonymous):
                await self.store.link(signed_in, anonymous, now=now)
                await self.store.link(identity, new_thread_id(), now=now)
                # the browser's other tabs, still anonymous, must stop showing what is now the customer's
                await self._rewritten(anonymous)
                return anonymous
            return await self.store.resolve(signed_in, now=now)

    async def _conversation(self, thread_id: str) -> bool:
        return bool(await self.store.tail(thread_id, CONVERSATION_KINDS, 1))

    async def join(self, identity: Identity, prior: Identity) -> bool:
        async with self.locks.lock(identity_key(identity)):
            prior_thread = await self.store.find(prior)
            if prior_thread is None or await self.store.find(identity) is not None:
                return False
            await self.store.link(identity, prior_thread, now=self.clock())
            return True

    # ------------------------------------------------------------------ links between channels

    async def redeem_link(self, token: str, identity: Identity, *, to: str, confirmed: bool) -> LinkRedeemed:
        try:
            result = await self.linker.redeem(token, _purpose(to), identity, confirmed=confirmed)
        except LinkRefused as exc:
            log.warning("%s:%s: link refused (%s: %s)", identity.channel, identity.user_id, exc.reason, exc.detail)
            return LinkRedeemed("refused", reason=exc.reason, detail=exc.detail)
        if result.needs_confirmation:
            return LinkRedeemed("confirm", thread_id=result.thread_id)
        return LinkRedeemed(
            "linked", thread_id=result.thread_id, merged=result.merged_from is not None, again=result.already_linked
        )

    def hold_link(self, identity: Identity, token: str, to: str) -> None:
        self.linker.hold(identity, token, _purpose(to))

    def take_link(self, identity: Identity) -> tuple[str, str] | None:
        return self.linker.take(identity)

    async def link_url(self, identity: Identity, to: str) -> str | None:
        thread_id = await self.store.find(identity)
        return self.linker.link_url(thread_id, to) if thread_id else None

    def resolve_links(self, thread_id: str, messages: list[Outbound], here: str) -> list[Outbound]:
        return self.linker.resolve_buttons(thread_id, messages, here=here)

    def link_offered(self, to: str) -> bool:
        return self.linker.offers(to)

    async def _rewritten(self, *thread_ids: str) -> None:
        """A thread's log was rewritten (merged) or is gone (forgotten): open chat windows reload it."""
        for channel in self.channels.values():
            for thread_id in thread_ids:
                try:
                    await channel.rewritten(thread_id)
                except Exception:
                    log.exception("%s could not be told that thread %s changed", channel.name, thread_id)

    # ------------------------------------------------------------------ reading

    async def history(
        self, thread_id: str, *, after: int | None = None, limit: int = 200, kinds: tuple[str, ...] = ()
    ) -> History | None:
        """The events after ``after`` in order (at most ``limit``, then those of ``kinds`` when given); without it
        the last ``limit`` (of ``kinds``, when given)."""
        snapshot = await self.store.load(thread_id)
        if snapshot is None:
            return None
        if after is not None:
            events = await self.store.events(thread_id, after=after, limit=limit)
            if kinds:
                events = [e for e in events if e.event.kind in kinds]
        elif kinds:
            events = await self.store.tail(thread_id, kinds, limit)
        else:
            events = await self.store.events(thread_id, after=max(0, snapshot.version - limit), limit=limit)
        return History(thread_id, snapshot.version, snapshot.state, tuple(events))

    async def identities(self, thread_id: str) -> list[Identity]:
        return await self.store.identities(thread_id)

    async def state(self, thread_id: str) -> ThreadState | None:
        snapshot = await self.store.load(thread_id)
        return ThreadState.from_json(snapshot.state) if snapshot else None

    def inbox(self, channel: str) -> ChannelInbox:
        return ChannelInbox(self.store, channel)


def _purpose(to: str) -> Purpose:
    return f"to_{to}"
