"""The agent inbox's share of the unit of work: each conversation's inbox record (queue, assignee, status, read
marks) changed together with its thread, under the thread's lock, so two agents on two workers never both win.

A conversation's record (kind ``conversation``, keyed by thread id) holds no customer data, only who holds the
thread and since when; the inbox reads everything else from the thread itself. It is kept up to date by every
committed turn (:meth:`Desk.observe`, called by the unit of work while the lock is held) and by the agents'
actions (:meth:`Desk.change`). A conversation gets its record when a person is first asked for or answers;
until then it is the bot's alone, and the inbox finds it only by the customer's identity.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from bots.flow.state import ThreadState
from bots.handoff.desk import entered_queue
from bots.store.base import RecordTable, Snapshot
from bots.types import Identity, StoredEvent, ThreadEvent, TurnOutcome

if TYPE_CHECKING:
    from bots.threads.access import Threads

log = logging.getLogger(__name__)

CONVERSATION = "conversation"
Row = dict[str, Any]
# An agent's action on a thread: changes the record and the state in place and returns the events that say
# so, or a refusal (why not) that leaves everything as it was.
Action = Callable[[Row, ThreadState, float], list[ThreadEvent] | str]
Listener = Callable[[str, Row], Awaitable[None]]


def new_row(now: float) -> Row:
    return {"status": "open", "assignee": None, "queued_at": None, "created_at": now, "read": {}}


BOT_ONLY_REMEMBERED = 100_000  # thread ids; then the memory starts over (a thread forgotten is read once more)


class Desk:
    def __init__(self, threads: Threads, *, sole_writer: bool = False) -> None:
        """``sole_writer``: this process is the only one that writes records (the embedded store), so it can
        remember which threads have none and spare a bot-only conversation's turns the read of its record."""
        self.threads = threads
        self.listeners: list[Listener] = []  # told of every changed record (the inbox's live updates)
        self._bot_only: set[str] | None = set() if sole_writer else None  # threads known to have no record
        threads.observers.append(self.observe)

    @property
    def records(self) -> RecordTable:
        """Agent accounts and the inbox's own keys live here; the narrow interface, not the whole store."""
        return self.threads.store

    async def conversation(self, thread_id: str) -> Row | None:
        return await self.threads.store.record(CONVERSATION, thread_id)

    async def conversations(self) -> dict[str, Row]:
        return await self.threads.store.records(CONVERSATION)

    async def snapshot(self, thread_id: str) -> Snapshot | None:
        return await self.threads.store.load(thread_id)

    async def identities(self, thread_id: str) -> list[Identity]:
        return await self.threads.store.identities(thread_id)

    async def current(self, thread_id: str) -> str:
        return await self.threads.store.current(thread_id)

    async def find_user(self, user_id: str) -> list[str]:
        """The threads of a customer known by this id on any channel (an e-mail, a PSID, a REST sender)."""
        found = []
        for channel in self.threads.channels.values():
            for identity_channel in channel.identity_channels:
                thread_id = await self.threads.store.find(Identity(identity_channel, user_id))
                if thread_id is not None and thread_id not in found:
                    found.append(thread_id)
        return found

    async def merged(self, thread_id: str) -> list[str]:
        """The threads merged into this one (the customer's linked conversations)."""
        return await self.threads.store.merged_sources(thread_id)

    async def online(self, thread_id: str) -> int:
        """Open chat windows showing the thread now, on every worker."""
        return sum((await self.threads.live(thread_id)).values())

    async def typing(self, thread_id: str, on: bool) -> int:
        """Tell the customer's open windows that a person is typing (or stopped); how many show it."""
        return sum([await channel.typing(thread_id, on) for channel in self.threads.channels.values()])

    async def events(self, thread_id: str, version: int, limit: int) -> list[StoredEvent]:
        """The last ``limit`` events of a thread at ``version``, in order."""
        return await self.threads.store.events(thread_id, after=max(0, version - limit), limit=limit)

    def channel_names(self, identities: list[Identity]) -> list[str]:
        """The channels (web, messenger, instagram, rest) these identities are on, as the server runs them."""
        names = {c.name for i in identities if (c := self.threads.channel_of(i.channel)) is not None}
        return sorted(names)

    async def forget_row(self, thread_id: str, row: Row) -> str | None:
        """A record whose thread is gone: forgotten (the record goes too), or merged into another thread, which
        takes the record over unless it has one of its own; returns that thread when it did."""
        into = await self.threads.store.current(thread_id)
        took_over = None
        if into != thread_id:
            async with self.threads.lock(into):
                if await self.conversation(into) is None and await self.snapshot(into) is not None:
                    await self._save(into, row)
                    took_over = into
        await self.threads.store.delete_record(CONVERSATION, thread_id)
        return took_over

    async def change(self, thread_id: str, action: Action) -> Row | str | None:
        """Apply an agent's action under the thread's lock; the new record, the refusal, or None (no thread)."""
        thread_id = await self.threads.store.current(thread_id)
        async with self.threads.lock(thread_id):
            thread = self.threads.locked(thread_id)
            snapshot = await thread.load()
            if snapshot is None:
                return None
            row = await self.conversation(thread_id) or new_row(snapshot.created_at)
            state = ThreadState.from_json(snapshot.state)
            now = self.threads.clock()
            events = action(row, state, now)
            if isinstance(events, str):
                return events
            if events:
                await thread.commit(state.to_json(), events, expected_version=snapshot.version, now=now)
            await self._save(thread_id, row)
            return row

    async def observe(self, outcome: TurnOutcome) -> None:
        """A committed turn or send (the thread's lock is held): the queue follows hand-offs and returns."""
        kinds = {stored.event.kind for stored in outcome.committed}
        if not kinds & {"user", "handoff", "agent"}:
            return
        person = bool(kinds & {"handoff", "agent"})
        if not person:
            if outcome.committed[0].seq == 1:  # the thread's first turn: no record before it on any worker (an
                self._remember_bot_only(outcome.thread_id)  # agent acts on stored threads only)
                return
            if self._bot_only is not None and outcome.thread_id in self._bot_only:
                return
        found = await self.conversation(outcome.thread_id)
        if found is None and not person:
            self._remember_bot_only(outcome.thread_id)
            return  # the bot's own conversation: in the inbox once a person is asked for or answers
        row = dict(found) if found is not None else new_row(outcome.committed[0].event.timestamp)
        for stored in outcome.committed:
            event = stored.event
            if event.kind == "user" and row["status"] == "closed":
                row.update(status="open", assignee=None)  # the customer is back: a new conversation
            elif event.kind == "handoff":
                if entered_queue(event):
                    row["queued_at"] = row.get("queued_at") or event.timestamp
                    row["status"] = "open"
                elif event.data.get("active"):  # a person answered from the Page's inbox, or another app took it
                    row["status"] = "open"
                else:
                    row.update(queued_at=None, assignee=None)
            elif event.kind == "agent" and row.get("queued_at") and not row.get("first_response_at"):
                row["first_response_at"] = event.timestamp
        if row != found:
            await self._put(outcome.thread_id, row)
        await self._tell(outcome.thread_id, row)  # a new message is news to an agent looking at the thread

    def _remember_bot_only(self, thread_id: str) -> None:
        if self._bot_only is not None:
            if len(self._bot_only) >= BOT_ONLY_REMEMBERED:
                self._bot_only.clear()
            self._bot_only.add(thread_id)

    async def _put(self, thread_id: str, row: Row) -> None:
        if self._bot_only is not None:
            self._bot_only.discard(thread_id)
        await self.threads.store.put_record(CONVERSATION, thread_id, row)

    async def _save(self, thread_id: str, row: Row) -> None:
        await self._put(thread_id, row)
        await self._tell(thread_id, row)

    async def _tell(self, thread_id: str, row: Row) -> None:
        for listener in self.listeners:
            try:
                await listener(thread_id, row)
            except Exception:  # a live view to refresh must not fail what is saved
                log.exception("the inbox could not be told that conversation %s changed", thread_id)
