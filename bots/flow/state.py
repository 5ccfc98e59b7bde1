"""A thread's state between two messages: what the engine must remember.

It is stored as JSON in the thread snapshot, so it holds only plain data.
The full history lives in the thread's event log; this is the small part the
engine needs on every turn.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

MAX_SITE_EVENTS = 200


@dataclass
class Frame:
    """A running flow. ``waiting`` means its ask at ``pc`` waits for the customer's answer."""

    flow: str
    pc: int = 0
    waiting: bool = False
    attempts: int = 0


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

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ThreadState":
        data = dict(data)
        data["stack"] = [Frame(**frame) for frame in data.get("stack", [])]
        known = set(cls.__dataclass_fields__)
        return cls(**{key: value for key, value in data.items() if key in known})

    def copy(self) -> "ThreadState":
        return ThreadState.from_json(self.to_json())
