"""One turn, end to end: the only module that knows every seam.

inbound -> lock -> load -> NLU -> engine (-> actions -> engine) -> commit -> deliver

The identity's lock is taken before anything else is awaited, so messages of
one customer queue in arrival order; the thread's lock (several identities
may share a thread) is then held from loading the snapshot until the replies
are delivered, so replies of one thread never interleave.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from bots.actions import ActionCall, ActionRunner
from bots.flow.engine import ActionOutcome, Engine, Turn
from bots.flow.model import Bot
from bots.flow.state import ThreadState
from bots.store.base import ConflictError, Snapshot, StoredEvent, ThreadLock, ThreadStore
from bots.types import (
    INBOUND_KINDS, Inbound, NLUResult, Outbound, ThreadEvent, outbound_from_json, outbound_to_json, short_locale,
)
from nlu_models.base import Interpreter, LanguageHints
from nlu_models.payload import parse_payload_result

log = logging.getLogger(__name__)
SETTLED_KINDS = ("delivered", "delivery_failed")  # a channel's word that a turn's replies went out (or never will)
# What an action's tracker is built from (bots.actions.tracker maps them to Rasa events)
TRACKER_KINDS = ("user", "bot", "agent", "slot", "action", "flow", "handoff", "site_event", "restart", "rewind",
                 "reminder")

@dataclass(frozen=True)
class TurnOutcome:
    """What one turn did. ``committed`` are the events it appended, with their sequence numbers."""

    thread_id: str
    outbound: list[Outbound]
    duplicate: bool = False
    language: str | None = None
    committed: tuple[StoredEvent, ...] = ()
    message_tag: str | None = None  # the Messenger tag of the flow that spoke, for sends outside the window
    channel: str = ""  # the channel the turn happened on


# Called with the thread's lock still held, so replies of one thread reach every channel in order.
# It may return events about the delivery (a failed send, a refusal), which are added to the thread.
Deliver = Callable[[TurnOutcome], Awaitable["list[ThreadEvent] | None"]]


def outbound_event(message: Outbound, now: float, channel: str, by_person: str | None = None) -> ThreadEvent:
    """A sent message for the thread log: the bot's, or (``by_person``) one a person typed."""
    if by_person:
        return ThreadEvent("agent", {**outbound_to_json(message), "by": by_person}, now, channel)
    return ThreadEvent("bot", outbound_to_json(message), now, channel)


class Pipeline:
    def __init__(self, bot: Bot, engine: Engine, store: ThreadStore, locks: ThreadLock,
                 interpreter: Interpreter, actions: ActionRunner, clock: Callable[[], float] = time.time,
                 action_history: int = 200) -> None:
        self.bot = bot
        self.engine = engine
        self.store = store
        self.locks = locks
        self.interpreter = interpreter
        self.actions = actions
        self.clock = clock
        self.action_history = action_history  # how many past events an action's tracker carries
        self.on_wake: Callable[[float], None] | None = None  # told when a thread gets an earlier reminder
        # Told of every committed turn, the thread's lock still held (so in order): e.g. the website's open
        # chat windows show a conversation going on in Messenger as it happens.
        self.observers: list[Callable[[TurnOutcome], Awaitable[None]]] = []

    async def handle(self, inbound: Inbound, deliver: Deliver | None = None) -> TurnOutcome:
        identity = inbound.identity
        async with self.locks.lock(f"identity:{identity.channel}:{identity.user_id}"):
            while True:
                thread_id = await self.store.resolve(identity, now=self.clock())
                async with self.locks.lock(f"thread:{thread_id}"):
                    # A merge (bots.linking) may have moved the identity while this waited for the lock.
                    if await self.store.find(identity) == thread_id:
                        return await self._redoing_conflicts(thread_id, inbound, deliver)

    async def _redoing_conflicts(self, thread_id: str, inbound: Inbound, deliver: Deliver | None) -> TurnOutcome:
        """The turn, done again on the thread as it now is if someone wrote to it under our lock.

        That someone is a worker that lost the lock (frozen past its lease) and woke up: the version check
        refuses whichever of the two commits comes second, and when that is ours, the customer's message
        must still be answered, not dropped.
        """
        for attempt in range(1, 4):
            try:
                return await self._locked(thread_id, inbound, deliver)
            except ConflictError:
                if attempt == 3:
                    raise
                log.warning("thread %s changed while this worker held its lock (another one lost the lock and "
                            "wrote); doing the turn again", thread_id)
        raise AssertionError("unreachable")

    async def _locked(self, thread_id: str, inbound: Inbound, deliver: Deliver | None) -> TurnOutcome:
        if inbound.message_id and await self.store.has_message(thread_id, inbound.message_id):
            log.info("thread %s: message %s was already processed; ignoring the redelivery",
                     thread_id, inbound.message_id)
            if deliver is not None:
                await self._deliver_again(thread_id, inbound.message_id, deliver)
            return TurnOutcome(thread_id, [], duplicate=True)
        snapshot = await self.store.load(thread_id)
        state = ThreadState.from_json(snapshot.state) if snapshot else self.engine.new_state()
        nlu = await self._understand(inbound, state) if inbound.kind == "message" else None
        now = self.clock()
        turn = self.engine.handle(state, inbound, nlu, now)
        turn = await self._run_actions(thread_id, inbound.channel, inbound.identity.user_id, turn, nlu)
        if turn.events and turn.events[0].kind in INBOUND_KINDS:  # the inbound itself
            turn.events[0] = dataclasses.replace(turn.events[0], message_id=inbound.message_id)
        return await self._commit(thread_id, snapshot, turn, inbound.channel, now, deliver)

    async def _commit(self, thread_id: str, snapshot: Snapshot | None, turn: Turn, channel: str, now: float,
                      deliver: Deliver | None) -> TurnOutcome:
        for event in turn.events:
            if event.kind == "error":
                log.error("thread %s, flow %s: %s", thread_id, event.data.get("flow"), event.data.get("error"))
        events = turn.events + [outbound_event(m, now, channel) for m in turn.outbound]
        version = await self.store.commit(thread_id, turn.state.to_json(), events,
                                          expected_version=snapshot.version if snapshot else 0, now=now,
                                          wake_at=turn.state.wake_at)
        if turn.state.wake_at is not None and self.on_wake is not None and (
                snapshot is None or snapshot.state.get("wake_at") != turn.state.wake_at):
            self.on_wake(turn.state.wake_at)
        first = version - len(events) + 1
        committed = tuple(StoredEvent(thread_id, first + i, event) for i, event in enumerate(events))
        outcome = TurnOutcome(thread_id, turn.outbound, language=turn.state.language, committed=committed,
                              message_tag=turn.message_tag, channel=channel)
        if deliver is not None:
            delivery_events = await deliver(outcome)
            if delivery_events:
                await self.store.commit(thread_id, turn.state.to_json(), list(delivery_events),
                                        expected_version=version, now=self.clock(), wake_at=turn.state.wake_at)
        for observer in self.observers:
            try:
                await observer(outcome)
            except Exception:  # an observer must not fail a turn that is already saved and sent
                log.exception("a turn observer failed on thread %s", thread_id)
        return outcome

    async def _deliver_again(self, thread_id: str, message_id: str, deliver: Deliver) -> None:
        """The turn was saved but its replies may not have gone out (the process stopped in between)."""
        events = await self.store.turn_events(thread_id, message_id)
        replies = [e for e in events if e.event.kind == "bot"]
        if not replies or any(e.event.kind in SETTLED_KINDS for e in events):
            return
        log.warning("thread %s: the replies to %s were never confirmed sent; sending them now", thread_id, message_id)
        outcome = TurnOutcome(thread_id, [outbound_from_json(e.event.data) for e in replies], duplicate=True,
                              committed=tuple(events))
        extra = await deliver(outcome)
        if extra:
            snapshot = await self.store.load(thread_id)
            assert snapshot is not None
            await self.store.commit(thread_id, snapshot.state, list(extra), expected_version=snapshot.version,
                                    now=self.clock(), wake_at=snapshot.state.get("wake_at"))

    async def _understand(self, inbound: Inbound, state: ThreadState) -> NLUResult:
        return await self.understand(inbound.text, state.language, inbound.language_hint)

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

    async def _run_actions(self, thread_id: str, channel: str, user_id: str | None, turn: Turn,
                           nlu: NLUResult | None, latest_message: dict[str, Any] | None = None) -> Turn:
        stored: list[ThreadEvent] | None = None
        while turn.action is not None:
            if stored is None:  # the thread's past, read once per turn and only when an action needs it
                stored = [e.event for e in await self.store.tail(thread_id, TRACKER_KINDS, self.action_history)]
            said = [outbound_event(m, self.clock(), channel) for m in turn.outbound]
            # A form validation action reads the answers to check from the slot events at the very end
            # (rasa-sdk's ``slots_to_validate``), as Rasa's form appends them: this turn's replies go before.
            history = stored + (said + turn.events if turn.action.validate_slot else turn.events + said)
            call = ActionCall(name=turn.action.name, thread_id=thread_id, channel=channel, state=turn.state,
                              latest_message=nlu.as_parse_data() if nlu else latest_message, history=history,
                              user_id=user_id)
            try:
                outcome = await self.actions.run(call)
            except Exception as exc:  # a runner must not take the turn down with it
                log.exception("action runner failed for %s on thread %s", call.name, thread_id)
                outcome = ActionOutcome(ok=False, error=f"{type(exc).__name__}: {exc}")
            turn = self.engine.resume(turn, outcome, channel, self.clock())
        return turn

    async def fire_reminders(self, thread_id: str, deliver: Deliver | None) -> int:
        """Run the reminders that are due now, one turn each; returns how many fired.

        Only those due when this call starts: one that a reminder's own flow
        schedules is left to the scheduler's next pass, so nothing loops here.
        """
        fired = 0
        async with self.locks.lock(f"thread:{thread_id}"):
            snapshot = await self.store.load(thread_id)
            started = self.clock()
            due = len([r for r in (snapshot.state.get("reminders") or []) if r["due"] <= started]) if snapshot else 0
            while fired < due:
                snapshot = await self.store.load(thread_id)
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
                latest = {"text": f"/{reminder.get('intent')}", "intent": {"name": reminder.get("intent"),
                                                                           "confidence": 1.0},
                          "intent_ranking": [{"name": reminder.get("intent"), "confidence": 1.0}],
                          "entities": [{"entity": k, "value": v} for k, v in entities.items()],
                          "metadata": {"reminder": reminder.get("name")}}
                turn = await self._run_actions(thread_id, channel, None, turn, None, latest)
                await self._commit(thread_id, snapshot, turn, channel, now, deliver)
        return fired

    async def follow_up(self, thread_id: str, make_turn: Callable[[ThreadState, float], "tuple[Turn, str] | str"],
                        deliver: Deliver) -> "TurnOutcome | str":
        """A turn the business starts (a follow-up campaign): ``make_turn`` returns it with its channel, or a reason.

        It decides under the thread's lock, on the state as it is now: the
        customer may have opted out since the campaign was planned.
        """
        async with self.locks.lock(f"thread:{thread_id}"):
            snapshot = await self.store.load(thread_id)
            if snapshot is None:
                return "gone: the thread was merged or deleted since"
            now = self.clock()
            made = make_turn(ThreadState.from_json(snapshot.state), now)
            if isinstance(made, str):
                return made
            turn, channel = made
            turn = await self._run_actions(thread_id, channel, None, turn, None,
                                           {"text": "", "intent": {}, "entities": [], "metadata": {"followup": True}})
            return await self._commit(thread_id, snapshot, turn, channel, now, deliver)

    async def amend(self, thread_id: str, change: Callable[[ThreadState, float], list[ThreadEvent]]) -> bool:
        """Change a thread's state outside a turn, under its lock, with the events saying why; False if gone."""
        async with self.locks.lock(f"thread:{thread_id}"):
            snapshot = await self.store.load(thread_id)
            if snapshot is None:
                return False
            now = self.clock()
            state = ThreadState.from_json(snapshot.state)
            events = change(state, now)
            await self.store.commit(thread_id, state.to_json(), events, expected_version=snapshot.version, now=now,
                                    wake_at=state.wake_at)
            return True

    async def drop_due_reminders(self, thread_id: str, error: str) -> None:
        """Firing keeps failing: drop the due reminders, saying why, so they stop coming back."""
        async with self.locks.lock(f"thread:{thread_id}"):
            snapshot = await self.store.load(thread_id)
            if snapshot is None:
                return
            now = self.clock()
            state = ThreadState.from_json(snapshot.state)
            dropped = [r for r in state.reminders if r["due"] <= now]
            state.set_reminders([r for r in state.reminders if r["due"] > now])
            events = [ThreadEvent("reminder", {"status": "dropped", "name": r.get("name"), "intent": r.get("intent"),
                                               "reason": error}, now) for r in dropped]
            await self.store.commit(thread_id, state.to_json(), events, expected_version=snapshot.version, now=now,
                                    wake_at=state.wake_at)

    async def release_handoff(self, thread_id: str, by: str = "") -> bool:
        """Let the bot reply on a thread again after a person took over; False if there was no hand-off."""
        async with self.locks.lock(f"thread:{thread_id}"):
            snapshot: Snapshot | None = await self.store.load(thread_id)
            if snapshot is None:
                return False
            state = ThreadState.from_json(snapshot.state)
            if not state.handoff:
                return False
            now = self.clock()
            turn = self.engine.release_handoff(state, now, by)
            await self.store.commit(thread_id, turn.state.to_json(), turn.events,
                                    expected_version=snapshot.version, now=now, wake_at=turn.state.wake_at)
            return True
