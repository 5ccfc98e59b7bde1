"""Work on a thread that no customer request started: sends by a person or the admin API, reminders,
follow-up campaigns, hand-off release, forgetting. All of it under the thread's lock, and every message
goes out through the ONE routing rule (``bots.threads.routing``)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bots.flow.engine import Turn
from bots.flow.state import ThreadState
from bots.pipeline import outbound_event
from bots.store.locked import LockedThread
from bots.threads import privacy
from bots.threads.routing import Route, choose
from bots.types import Outbound, StoredEvent, ThreadEvent, TurnOutcome
from connectors.base import Reach, Sent, ThreadView

if TYPE_CHECKING:
    from bots.pipeline import Pipeline
    from bots.store.base import ThreadLock, ThreadStore
    from bots.threads.linking import ThreadLinker
    from connectors.base import Channel

log = logging.getLogger(__name__)


class OutsideTurn:
    """Mixed into :class:`bots.threads.access.Threads`; kept apart because it is the other half of its job."""

    # What this half uses of the other: Threads sets these and defines the methods below.
    store: ThreadStore
    locks: ThreadLock
    pipeline: Pipeline
    linker: ThreadLinker
    clock: Callable[[], float]
    channels: dict[str, Channel]

    if TYPE_CHECKING:

        def locked(self, thread_id: str) -> LockedThread: ...

        def lock(self, thread_id: str) -> Any: ...

        async def mirror(self, outcome: TurnOutcome, *, skip: str = "") -> None: ...

        async def _rewritten(self, *thread_ids: str) -> None: ...

    async def view(self, thread: LockedThread) -> ThreadView | None:
        snapshot = await thread.load()
        if snapshot is None:
            return None
        return ThreadView(thread.thread_id, snapshot.state, tuple(await thread.identities()))

    async def live(self, thread_id: str) -> dict[str, int]:
        """Open windows per channel showing the thread now (only the website has any)."""
        return {name: await channel.live_windows(thread_id) for name, channel in self.channels.items()}

    async def route(self, view: ThreadView, *, tag: str | None = None, by_person: bool = False) -> Route:
        return choose(
            view,
            self.channels.values(),
            now=self.clock(),
            tag=tag,
            by_person=by_person,
            live=await self.live(view.thread_id),
        )

    async def plan_route(self, thread_id: str, *, tag: str | None = None) -> Route | None:
        """Where a message would go now (a campaign's dry run); None when there is no such thread."""
        view = await self.view(self.locked(thread_id))  # read without the lock: a plan, decided again when sent
        return await self.route(view, tag=tag) if view is not None else None

    async def thread_ids(self, *, after: str = "", limit: int = 1000) -> list[str]:
        return await self.store.thread_ids(after=after, limit=limit)

    async def _send_on(
        self,
        thread: LockedThread,
        view: ThreadView,
        reach: Reach,
        messages: list[Outbound],
        committed: tuple[StoredEvent, ...],
    ) -> Sent:
        """Send committed messages as ``reach`` allows, and record what the channel says happened in one commit:
        its events, and for a channel that answers later (REST) the messages its next request must carry."""
        channel = self.channels[reach.channel]
        messages = self.linker.resolve_buttons(view.thread_id, messages, here=reach.channel)
        sent = await channel.send(view, messages, reach, committed=committed)
        waiting = (
            [e.seq for e in committed if e.event.kind in ("bot", "agent")]
            if (reach.status == "queued" and channel.answers_later)
            else []
        )
        if sent.events or waiting:
            snapshot = await thread.load()
            if snapshot is not None:
                state = snapshot.state
                if waiting:
                    outbox = dict(state.get("outbox") or {})
                    outbox[reach.channel] = [*outbox.get(reach.channel, []), *waiting]
                    state = {**state, "outbox": outbox}
                await thread.commit(state, list(sent.events), expected_version=snapshot.version, now=self.clock())
        return sent

    async def send(
        self,
        thread_id: str,
        messages: list[Outbound],
        *,
        by_person: str | None = None,
        tag: str | None = None,
    ) -> dict[str, Any] | None:
        """A message outside a turn: a person's (``by_person``) or the bot's. None when there is no such thread.

        The answer says what happened: ``status`` is ``delivered`` (``sent``: true), ``queued`` (kept for
        the customer's return), ``refused`` (no channel may reach them now; ``reason`` says why per channel)
        or ``failed`` (the channel tried and could not).
        """
        thread_id = await self.store.current(thread_id)
        async with self.lock(thread_id):
            thread = self.locked(thread_id)
            view = await self.view(thread)
            if view is None:
                return None
            route = await self.route(view, tag=tag or view.state.get("message_tag"), by_person=by_person is not None)
            now = self.clock()
            reach = route.chosen
            if reach is None:
                await thread.append(
                    [
                        ThreadEvent(
                            "send_refused", {"channel": r.channel, "reason": r.reason, "by": by_person}, now, r.channel
                        )
                        for r in route.considered
                    ]
                )
                return {"sent": False, "status": "refused", "channel": None, "reason": route.refusal}
            identity_channel = self._identity_channel(view, reach.channel)
            committed = await thread.append([outbound_event(m, now, identity_channel, by_person) for m in messages])
            sent = await self._send_on(thread, view, reach, messages, committed)
            status = "failed" if not sent.ok else ("delivered" if reach.status == "now" else "queued")
            result: dict[str, Any] = {
                "sent": status == "delivered",
                "status": status,
                "channel": reach.channel,
                **reach.detail,
                **sent.detail,
            }
            if not sent.ok:
                result["reason"] = sent.reason
            elif status == "queued":
                result["reason"] = reach.reason
            await self.mirror(
                TurnOutcome(thread_id, [], committed=committed, channel=identity_channel), skip=reach.channel
            )
            return result

    def _identity_channel(self, view: ThreadView, channel: str) -> str:
        """The identity channel a message sent on ``channel`` is logged under (the customer's own there)."""
        owned = self.channels[channel].identity_channels
        seen = view.state.get("last_inbound_by_channel") or {}
        mine = [i.channel for i in view.identities if i.channel in owned]
        return max(mine, key=lambda c: seen.get(c, 0.0), default=owned[0])

    async def _deliver_outside(self, thread: LockedThread, outcome: TurnOutcome) -> tuple[list[ThreadEvent], str]:
        """A committed turn nobody waits for (a reminder): out through the routing rule; (events, channel)."""
        view = await self.view(thread)
        if not outcome.outbound or view is None:
            return [], ""
        route = await self.route(view, tag=outcome.message_tag)
        if route.chosen is None:
            now = self.clock()
            return [
                ThreadEvent("send_refused", {"channel": r.channel, "reason": r.reason}, now, r.channel)
                for r in route.considered
            ], ""
        await self._send_on(thread, view, route.chosen, outcome.outbound, outcome.committed)
        return [], route.chosen.channel

    # ------------------------------------------------------------------ reminders and campaigns

    async def fire_reminders(self, thread_id: str) -> int:
        async with self.lock(thread_id):
            thread = self.locked(thread_id)
            sent: list[tuple[TurnOutcome, str]] = []

            async def deliver(outcome: TurnOutcome) -> list[ThreadEvent] | None:
                events, channel = await self._deliver_outside(thread, outcome)
                sent.append((outcome, channel))
                return events

            fired = await self.pipeline.fire_reminders(thread, deliver)
            for outcome, channel in sent:
                await self.mirror(outcome, skip=channel)
            return fired

    async def drop_due_reminders(self, thread_id: str, error: str) -> None:
        await self.amend(thread_id, lambda state, now: self.pipeline.drop_due(state, now, error))

    async def follow_up(
        self,
        thread_id: str,
        make_turn: Callable[[ThreadState, float, Route], tuple[Turn, str] | str],
        tag: str | None = None,
    ) -> tuple[TurnOutcome, Reach, Sent] | str:
        """A turn the business starts: ``make_turn`` decides on the state as it is now and the route, under the
        lock (the customer may have opted out since the campaign was planned); returns why not, or what it
        sent where."""
        async with self.lock(thread_id):
            thread = self.locked(thread_id)
            view = await self.view(thread)
            if view is None:
                return "gone: the thread was merged or deleted since"
            route = await self.route(view, tag=tag)
            result: dict[str, Any] = {}

            async def deliver(outcome: TurnOutcome) -> list[ThreadEvent] | None:
                assert route.chosen is not None
                result["sent"] = await self._send_on(thread, view, route.chosen, outcome.outbound, outcome.committed)
                return None

            made = await self.pipeline.follow_up(thread, lambda state, now: make_turn(state, now, route), deliver)
            if isinstance(made, str):
                return made
            assert route.chosen is not None
            await self.mirror(made, skip=route.chosen.channel)
            return made, route.chosen, result.get("sent") or Sent(ok=True)

    async def amend(self, thread_id: str, change: Callable[[ThreadState, float], list[ThreadEvent]]) -> bool:
        async with self.lock(thread_id):
            return await self.pipeline.amend(self.locked(thread_id), change)

    async def release_handoff(self, thread_id: str, by: str = "") -> bool:
        async with self.lock(thread_id):
            return await self.pipeline.release_handoff(self.locked(thread_id), by)

    # ------------------------------------------------------------------ data requests

    async def export(self, thread_id: str) -> dict[str, Any] | None:
        return await privacy.export_thread(self.store, thread_id)

    async def forget(self, thread_id: str) -> dict[str, Any] | None:
        data = await privacy.forget_thread(self.store, self.locks, thread_id, now=self.clock())
        if data is not None:
            await self._rewritten(data["thread_id"])  # open chat windows still show it: tell them it is gone
        return data

    async def due_threads(self, *, now: float, limit: int) -> list[str]:
        return await self.store.due_threads(now=now, limit=limit)

    async def next_wake(self) -> float | None:
        return await self.store.next_wake()
