"""A thread's state between two messages: what the engine must remember.

It is stored as JSON in the thread snapshot, so it holds only plain data.
The full history lives in the thread's event log; this is the small part the
engine needs on every turn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_SITE_EVENTS = 200


@dataclass
class Frame:
    """A running flow. ``waiting`` means its ask at ``pc`` waits for the customer's answer."""

    flow: str
    pc: int = 0
    waiting: bool = False
    attempts: int = 0
    reprompts: int = 0  # times the waiting question was asked again after a digression
    asked: list[str] = field(default_factory=list)  # slots this flow's questions have filled so far
    saved: dict[str, Any] = field(default_factory=dict)  # an interrupting flow's: the answers to put back after it
    activated: bool = False  # a form's: its validation action has run at its start (Rasa's activation)
    # the intent (or payload's) that started it: Rasa's from_trigger_intent fills any of its questions with it, not
    # only one asked in that turn (a form that first asks "shall we go on?" still has it for the next question)
    trigger_intent: str | None = None
    # values the message that started it held for its questions (entities): one asked after another question in a
    # later turn takes it ("I want to return them, the sole came off" -> "this order?" -> "yes": the reason is said)
    given: dict[str, Any] = field(default_factory=dict)


_FRAME_KEYS = frozenset(Frame.__dataclass_fields__)  # a key a later version added is left out, not an error


@dataclass
class ThreadState:
    language: str | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    stack: list[Frame] = field(default_factory=list)
    handoff: bool = False
    opted_out: bool = False
    fallback_streak: int = 0
    site_events: list[dict[str, Any]] = field(default_factory=list)
    turn: int = 0
    channel: str = ""
    last_inbound_at: float = 0.0
    # When the customer last did something on each channel: Messenger's 24-hour window counts from it.
    last_inbound_by_channel: dict[str, float] = field(default_factory=dict)
    message_tag: str | None = None  # the Messenger tag the current flow declared, for sends outside the window
    notification_token: dict[str, Any] | None = None  # Messenger's opt-in token for messages after the window
    # Reminders actions scheduled (name, intent, entities, due, kill_on_user_message, scheduled_at); the store
    # indexes ``wake_at`` (the earliest due time) so a scheduler finds due threads without reading every state.
    reminders: list[dict[str, Any]] = field(default_factory=list)
    wake_at: float | None = None
    # Proactive follow-up campaigns this thread got (name -> when), so a campaign reaches nobody twice.
    followups: dict[str, float] = field(default_factory=dict)
    # Changes when the log is rewritten (two threads merged): chat windows holding sequence numbers reload.
    epoch: str = ""
    # Messages sent outside a turn that wait for the customer's next request on a channel that cannot push
    # (the REST channel): channel -> sequence numbers in the log. The next turn there answers them first.
    outbox: dict[str, list[int]] = field(default_factory=dict)
    # The flow that last ran to its end with no flow below it (flow, asked, turn): a correction in the next
    # turn ("no, 43" right after the size advice) changes its answer and runs its steps after that question again.
    ended: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        # Explicit shallow copies: dataclasses.asdict deep-copies every value and was the
        # single largest cost per message. Slot values and site events are replaced, never
        # mutated in place, so sharing them between copies is safe.
        return {
            "language": self.language,
            "slots": dict(self.slots),
            "stack": [
                {
                    "flow": f.flow,
                    "pc": f.pc,
                    "waiting": f.waiting,
                    "attempts": f.attempts,
                    "reprompts": f.reprompts,
                    "asked": list(f.asked),
                    "saved": dict(f.saved),
                    "activated": f.activated,
                    **({"trigger_intent": f.trigger_intent} if f.trigger_intent else {}),
                    **({"given": dict(f.given)} if f.given else {}),
                }
                for f in self.stack
            ],
            "handoff": self.handoff,
            "opted_out": self.opted_out,
            "fallback_streak": self.fallback_streak,
            "site_events": list(self.site_events),
            "turn": self.turn,
            "channel": self.channel,
            "last_inbound_at": self.last_inbound_at,
            "last_inbound_by_channel": dict(self.last_inbound_by_channel),
            "message_tag": self.message_tag,
            "notification_token": dict(self.notification_token) if self.notification_token else None,
            "reminders": [dict(r) for r in self.reminders],
            "wake_at": self.wake_at,
            "followups": dict(self.followups),
            "epoch": self.epoch,
            "outbox": {channel: list(seqs) for channel, seqs in self.outbox.items()},
            "ended": dict(self.ended) if self.ended else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ThreadState:
        data = dict(data)
        data["stack"] = [Frame(**{k: v for k, v in f.items() if k in _FRAME_KEYS}) for f in data.get("stack", [])]
        known = set(cls.__dataclass_fields__)
        return cls(**{key: value for key, value in data.items() if key in known})

    def set_reminders(self, reminders: list[dict[str, Any]]) -> None:
        self.reminders = sorted(reminders, key=lambda r: (r["due"], r["name"]))
        self.wake_at = self.reminders[0]["due"] if self.reminders else None

    def copy(self) -> ThreadState:
        return ThreadState.from_json(self.to_json())
