"""What a custom action asks the engine to do, in the engine's own terms.

Actions speak Rasa (``SlotSet``, ``FollowupAction``, dispatcher messages...);
``bots.actions`` translates that wire vocabulary into these plain values, so
the engine stays free of any action protocol and applies them in order, as
Rasa applies an action's events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bots.types import Outbound


@dataclass(frozen=True)
class SetSlot:
    name: str
    value: Any


@dataclass(frozen=True)
class ResetSlots:
    """Every slot back to its initial value (Rasa's ``AllSlotsReset``)."""


@dataclass(frozen=True)
class Say:
    message: Outbound


@dataclass(frozen=True)
class SayResponse:
    """One of the bot's texts by key, in the thread's language, with extra ``{placeholders}`` values."""

    key: str
    values: dict[str, Any] = field(default_factory=dict)
    buttons: tuple[Any, ...] = ()
    quick_replies: tuple[Any, ...] = ()
    # what the action gave besides the name, which replaces the response's own, as in Rasa: text, image, custom
    overrides: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Followup:
    """Run a flow (instead of the rest of the current one), an action, or say a text, next."""

    name: str


@dataclass(frozen=True)
class SetActiveLoop:
    """Rasa's ``ActiveLoop``: a form to go on with, or None to end the one that is active."""

    name: str | None


@dataclass(frozen=True)
class Pause:
    """The bot stops answering until resumed (Rasa's ``ConversationPaused``): a person's turn."""


@dataclass(frozen=True)
class Resume:
    pass


@dataclass(frozen=True)
class Restart:
    """Start the conversation afresh: slots, running flows and reminders are dropped; the log keeps all."""


@dataclass(frozen=True)
class StartSession:
    """Rasa's ``SessionStarted``: a new session; the slots start over (the action's ``SlotSet`` after it carry over)."""


@dataclass(frozen=True)
class Rewind:
    """Forget the customer's last message (Rasa's ``UserUtteranceReverted``): state as before it."""


@dataclass(frozen=True)
class ScheduleReminder:
    name: str
    intent: str
    due: float  # epoch seconds
    entities: dict[str, Any] = field(default_factory=dict)
    kill_on_user_message: bool = True


@dataclass(frozen=True)
class CancelReminder:
    """Cancel reminders matching every given field (all reminders when none is given)."""

    name: str | None = None
    intent: str | None = None
    entities: dict[str, Any] | None = None


Effect = (
    SetSlot
    | ResetSlots
    | Say
    | SayResponse
    | Followup
    | SetActiveLoop
    | Pause
    | Resume
    | Restart
    | StartSession
    | Rewind
    | ScheduleReminder
    | CancelReminder
)
