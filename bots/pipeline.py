"""One turn, end to end, on a thread whose lock the caller holds (``bots.threads``).

load -> NLU -> engine (-> actions -> engine) -> commit -> deliver

The thread's lock is held from loading the snapshot until the replies are
delivered, so replies of one thread never interleave; this module takes no
lock and reaches the store only through the :class:`LockedThread` it is given.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from bots.actions import ActionCall, ActionRunner
from bots.flow.engine import ActionOutcome, Engine, Turn
from bots.flow.model import Bot
from bots.flow.state import ThreadState
from bots.store.base import ConflictError, Snapshot
from bots.store.locked import LockedThread
from bots.types import (
    INBOUND_KINDS,
    SETTLED_KINDS,
    Deliver,
    Identity,
    Inbound,
    NLUResult,
    Outbound,
    StoredEvent,
    ThreadEvent,
    TurnOutcome,
    outbound_from_json,
    outbound_to_json,
    short_locale,
)
from nlu_models.base import Interpreter, LanguageHints
from nlu_models.payload import parse_payload_result

log = logging.getLogger(__name__)
# What an action's tracker is built from (bots.actions.tracker maps them to Rasa events)
TRACKER_KINDS = (
    "user",
    "bot",
    "agent",
    "slot",
    "action",
    "flow",
    "handoff",
    "site_event",
    "restart",
    "session",
    "rewind",
    "reminder",
)


def outbound_event(message: Outbound, now: float, channel: str, by_person: str | None = None) -> ThreadEvent:
    """A sent message for the thread log: the bot's, or (``by_person``) one a person typed."""
    if by_person:
        return ThreadEvent("agent", {**outbound_to_json(message), "by": by_person}, now, channel)
    return ThreadEvent("bot", outbound_to_json(message), now, channel)


class TurnObserver(Protocol):
    """Sees every turn: before it is saved (may add messages and events) and once saved (``bots.handoff``)."""

    async def before_commit(self, thread: LockedThread, turn: Turn, now: float) -> None: ...

    async def committed(self, outcome: TurnOutcome, person: Identity | None) -> None: ...


class Pipeline:
    """The turn logic; ``bots.threads.Threads`` takes the locks and hands it the locked thread."""

    def __init__(
        self,
        bot: Bot,
        engine: Engine,
        interpreter: Interpreter,
        actions: ActionRunner,
        clock: Callable[[], float] = time.time,
        action_history: int = 200,
    ) -> None:
        self.bot = bot
        self.engine = engine
        self.interpreter = interpreter
        self.actions = actions
        self.clock = clock
        self.action_history = action_history  # how many past events an action's tracker carries
        self.on_wake: Callable[[float], None] | None = None  # told when a thread gets an earlier reminder
        self.observer: TurnObserver | None = None

    async def turn(self, thread: LockedThread, inbound: Inbound, deliver: Deliver | None) -> TurnOutcome:
        if inbound.message_id and await thread.has_message(inbound.message_id):
            log.info(
                "thread %s: message %s was already processed; ignoring the redelivery",
                thread.thread_id,
                inbound.message_id,
            )
            return await self._replay(thread, inbound.message_id, deliver)
        snapshot = await thread.load()
        state = ThreadState.from_json(snapshot.state) if snapshot else self.engine.new_state()
        # messages a person or a reminder sent while this channel could not push them: they come first
        waiting = state.outbox.pop(inbound.channel, None) if state.outbox else None
        nlu = await self._understand(inbound, state) if inbound.kind == "message" else None
        now = self.clock()
        turn = self.engine.handle(state, inbound, nlu, now)
        turn = await self._run_actions(thread, inbound.channel, inbound.identity.user_id, turn, nlu)
        if turn.events and turn.events[0].kind in INBOUND_KINDS:  # the inbound itself
            turn.events[0] = dataclasses.replace(turn.events[0], message_id=inbound.message_id)
        earlier = await self._waiting(thread, waiting) if waiting else []
        return await self._commit(thread, snapshot, turn, inbound.channel, now, deliver, earlier, inbound.identity)

    async def _waiting(self, thread: LockedThread, seqs: list[int]) -> list[Outbound]:
        wanted = set(seqs)
        found = [
            e
            for e in await thread.events(after=min(wanted) - 1, limit=max(wanted) - min(wanted) + 1)
            if e.seq in wanted and e.event.kind in ("bot", "agent")
        ]
        return [outbound_from_json(e.event.data) for e in found]

    async def _commit(
        self,
        thread: LockedThread,
        snapshot: Snapshot | None,
        turn: Turn,
        channel: str,
        now: float,
        deliver: Deliver | None,
        earlier: list[Outbound] | None = None,
        person: Identity | None = None,
    ) -> TurnOutcome:
        if self.observer is not None:
            await self.observer.before_commit(thread, turn, now)
        for event in turn.events:
            if event.kind == "error":
                log.error("thread %s, flow %s: %s", thread.thread_id, event.data.get("flow"), event.data.get("error"))
        events = turn.events + [outbound_event(m, now, channel) for m in turn.outbound]
        version = await thread.commit(
            turn.state.to_json(), events, expected_version=snapshot.version if snapshot else 0, now=now
        )
        if (
            turn.state.wake_at is not None
            and self.on_wake is not None
            and (snapshot is None or snapshot.state.get("wake_at") != turn.state.wake_at)
        ):
            self.on_wake(turn.state.wake_at)
        first = version - len(events) + 1
        committed = tuple(StoredEvent(thread.thread_id, first + i, event) for i, event in enumerate(events))
        outcome = TurnOutcome(
            thread.thread_id,
            (earlier or []) + turn.outbound,
            language=turn.state.language,
            committed=committed,
            message_tag=turn.message_tag,
            channel=channel,
            made_thread=thread.made_here,
        )
        if self.observer is not None:
            await self.observer.committed(outcome, person)
        if deliver is not None:
            delivery_events = await deliver(outcome)
            if delivery_events:
                try:
                    await thread.commit(
                        turn.state.to_json(), list(delivery_events), expected_version=version, now=self.clock()
                    )
                except ConflictError:
                    # Sent already: doing the turn again would send it twice. Someone wrote since (a worker that
                    # outlived its lock's lease), so the record of the sending goes after what they wrote.
                    log.warning(
                        "thread %s changed while its replies were sent; recording their delivery after it",
                        thread.thread_id,
                    )
                    await thread.append(list(delivery_events))
        return outcome

    async def _replay(self, thread: LockedThread, message_id: str, deliver: Deliver | None) -> TurnOutcome:
        """A redelivered message: the earlier turn's replies, sent again only if never confirmed sent.

        A request/response channel (REST) answers them again, so retrying is safe for its client; a webhook
        channel (Messenger) sends them when the process stopped between saving and sending.
        """
        events = await thread.turn_events(message_id)
        replies = [e for e in events if e.event.kind == "bot"]
        outcome = TurnOutcome(
            thread.thread_id,
            [outbound_from_json(e.event.data) for e in replies],
            duplicate=True,
            committed=tuple(events),
        )
        if deliver is None or not replies or any(e.event.kind in SETTLED_KINDS for e in events):
            return outcome
        log.warning(
            "thread %s: the replies to %s were never confirmed sent; sending them now", thread.thread_id, message_id
        )
        await thread.append(list(await deliver(outcome) or []))
        return outcome

    async def _understand(self, inbound: Inbound, state: ThreadState) -> NLUResult:
        # Before the customer's first message, a thread's language that is not the browser's or profile's came from
        # the bot's default (a welcome sent on opening with no hint), not from anyone's words: the first message is
        # read as a thread's first ("stornieren ST-345678" is German); the browser's language stays as sticky.
        fresh = not state.turn and state.language != short_locale(inbound.language_hint)
        thread_language = None if fresh else state.language
        return await self.understand(inbound.text, thread_language, inbound.language_hint)

    async def understand(self, text: str, thread_language: str | None, language_hint: str | None) -> NLUResult:
        """What a message means in a thread: a button's payload says it itself, anything else goes to the NLU.
        ``POST /model/parse`` asks this too, so it answers what a conversation would."""
        hint = short_locale(language_hint)
        language = thread_language or (hint if hint in self.bot.languages else self.bot.default_language)
        payload = parse_payload_result(text, self.bot.intents, language)
        if payload is not None:
            return payload
        hints = LanguageHints(thread_language=thread_language, channel_locale=language_hint)
        return await self.interpreter.parse(text, hints)

    async def _run_actions(
        self,
        thread: LockedThread,
        channel: str,
        user_id: str | None,
        turn: Turn,
        nlu: NLUResult | None,
        latest_message: dict[str, Any] | None = None,
    ) -> Turn:
        stored: list[ThreadEvent] | None = None
        while turn.action is not None:
            if stored is None:  # the thread's past, read once per turn and only when an action needs it
                stored = [e.event for e in await thread.tail(TRACKER_KINDS, self.action_history)]
            said = [outbound_event(m, self.clock(), channel) for m in turn.outbound]
            read = turn.nlu or nlu  # as the engine read the message (Duckling's shapes, out_of_scope named)
            # A form validation action reads the answers to check from the slot events at the very end
            # (rasa-sdk's ``slots_to_validate``), as Rasa's form appends them: this turn's replies go before.
            history = stored + (said + turn.events if turn.action.validate_slot else turn.events + said)
            call = ActionCall(
                name=turn.action.name,
                thread_id=thread.thread_id,
                channel=channel,
                state=turn.state,
                latest_message=read.as_parse_data() if read else latest_message,
                history=history,
                user_id=user_id,
            )
            try:
                outcome = await self.actions.run(call)
            except Exception as exc:  # a runner must not take the turn down with it
                log.exception("action runner failed for %s on thread %s", call.name, thread.thread_id)
                outcome = ActionOutcome(ok=False, error=f"{type(exc).__name__}: {exc}")
            turn = self.engine.resume(turn, outcome, channel, self.clock())
        return turn

    async def fire_reminders(self, thread: LockedThread, deliver: Deliver | None) -> int:
        """Run the reminders that are due now, one turn each; returns how many fired.

        Only those due when this call starts: one that a reminder's own flow
        schedules is left to the scheduler's next pass, so nothing loops here.
        """
        fired = 0
        snapshot = await thread.load()
        started = self.clock()
        due = len([r for r in (snapshot.state.get("reminders") or []) if r["due"] <= started]) if snapshot else 0
        while fired < due:
            snapshot = await thread.load()
            if snapshot is None:
                break
            now = self.clock()
            turn = self.engine.fire_reminder(ThreadState.from_json(snapshot.state), now, due_by=started)
            if turn is None:
                break
            fired += 1
            channel = turn.state.channel
            reminder = turn.reminder or {}
            entities = reminder.get("entities") or {}
            # Rasa's reminders arrive as the intent itself: that is the tracker's latest message
            latest = {
                "text": f"/{reminder.get('intent')}",
                "intent": {"name": reminder.get("intent"), "confidence": 1.0},
                "intent_ranking": [{"name": reminder.get("intent"), "confidence": 1.0}],
                "entities": [{"entity": k, "value": v} for k, v in entities.items()],
                "metadata": {"reminder": reminder.get("name")},
            }
            turn = await self._run_actions(thread, channel, None, turn, None, latest)
            await self._commit(thread, snapshot, turn, channel, now, deliver)
        return fired

    async def follow_up(
        self,
        thread: LockedThread,
        make_turn: Callable[[ThreadState, float], tuple[Turn, str] | str],
        deliver: Deliver,
    ) -> TurnOutcome | str:
        """A turn the business starts (a follow-up campaign): ``make_turn`` returns it with its channel, or a reason.

        It decides on the state as it is now, the lock held: the customer may
        have opted out since the campaign was planned.
        """
        snapshot = await thread.load()
        if snapshot is None:
            return "gone: the thread was merged or deleted since"
        now = self.clock()
        made = make_turn(ThreadState.from_json(snapshot.state), now)
        if isinstance(made, str):
            return made
        turn, channel = made
        turn = await self._run_actions(
            thread,
            channel,
            None,
            turn,
            None,
            {"text": "", "intent": {}, "entities": [], "metadata": {"followup": True}},
        )
        return await self._commit(thread, snapshot, turn, channel, now, deliver)

    async def amend(self, thread: LockedThread, change: Callable[[ThreadState, float], list[ThreadEvent]]) -> bool:
        """Change a thread's state outside a turn, with the events saying why; False if the thread is gone."""
        snapshot = await thread.load()
        if snapshot is None:
            return False
        now = self.clock()
        state = ThreadState.from_json(snapshot.state)
        events = change(state, now)
        await thread.commit(state.to_json(), events, expected_version=snapshot.version, now=now)
        return True

    @staticmethod
    def drop_due(state: ThreadState, now: float, error: str) -> list[ThreadEvent]:
        """Firing keeps failing: drop the due reminders, saying why, so they stop coming back."""
        dropped = [r for r in state.reminders if r["due"] <= now]
        state.set_reminders([r for r in state.reminders if r["due"] > now])
        return [
            ThreadEvent(
                "reminder",
                {"status": "dropped", "name": r.get("name"), "intent": r.get("intent"), "reason": error},
                now,
            )
            for r in dropped
        ]

    async def release_handoff(self, thread: LockedThread, by: str = "") -> bool:
        """Let the bot reply on a thread again after a person took over; False if there was no hand-off."""
        snapshot = await thread.load()
        if snapshot is None:
            return False
        state = ThreadState.from_json(snapshot.state)
        if not state.handoff:
            return False
        now = self.clock()
        turn = self.engine.release_handoff(state, now, by)
        await thread.commit(turn.state.to_json(), turn.events, expected_version=snapshot.version, now=now)
        return True
