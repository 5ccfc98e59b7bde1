"""What one turn of the engine hands back, and what it asks of the pipeline in between."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bots.flow.effects import Effect
from bots.flow.state import ThreadState
from bots.types import Inbound, NLUResult, Outbound, ThreadEvent

MAX_ACTIONS_PER_TURN = 20


@dataclass
class ActionRequest:
    """The engine needs a custom action run before it can go on.

    ``advance``: on success the flow moves past the action step (a flow's own
    step); a follow-up an action asked for leaves the flow where it is.
    ``error_pc``: where the flow goes when the action fails (None: apologise).
    """

    name: str
    flow: str
    error_pc: int | None = None
    advance: bool = True
    validate_slot: str | None = None  # a form validation action (``validate_<flow>``) checking this answer
    activation: bool = False  # that validation runs as the form starts, before its first question is asked


@dataclass
class ActionOutcome:
    """What running a custom action produced: its effects, in the order the action returned them."""

    ok: bool = True
    effects: list[Effect] = field(default_factory=list)
    error: str | None = None
    ignored: list[str] = field(default_factory=list)  # events the action returned that Threadline does not apply


@dataclass
class Turn:
    state: ThreadState
    outbound: list[Outbound] = field(default_factory=list)
    events: list[ThreadEvent] = field(default_factory=list)
    action: ActionRequest | None = None
    event_data: dict[str, Any] = field(default_factory=dict)
    prefill: str | None = None  # the message, while the questions the flow reaches may take values from it
    nlu: NLUResult | None = None  # what the NLU read in it
    used: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # per slot type: the parts taken
    trigger_intent: str | None = None  # the intent (or payload's) that started a flow this turn: from_trigger_intent
    # Slot values this message carried as entities or payload values, checked against the slot's type, with
    # where in the text each was found (None: not in the text, a payload's): they fill before free text does.
    filled: dict[str, tuple[Any, tuple[int, int] | None]] = field(default_factory=dict)
    before: ThreadState | None = None  # the state the turn started from: what a Rewind goes back to
    actions_run: int = 0
    message_tag: str | None = None  # the Messenger tag of a flow that spoke this turn (sends outside the window)
    reminder: dict[str, Any] | None = None  # the reminder this turn fired, if any
    requested: set[str] = field(default_factory=set)  # each action request's state, to see a loop (loops.py)
    said_by_first: dict[str, int] = field(default_factory=dict)  # messages said when each action first finished
    # The message a session's ``action_session_start`` runs before (bots.flow.sessions), handled once it ran
    waiting: tuple[Inbound, NLUResult | None] | None = None
