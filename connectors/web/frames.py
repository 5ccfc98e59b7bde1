"""The widget's client frames: the tab they speak for, what a message or event frame means, and what is wrong with
one, so the WebSocket and the HTTP fallback refuse bad input with the same words."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any

from bots.types import Identity, Inbound, loads_text
from connectors.web.identity import CUSTOMER_CHANNEL, WEB_CHANNEL

MAX_FRAME_BYTES = 64 * 1024
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_EVENT_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


class FrameError(ValueError):
    """A frame refused: answered with an ``error`` frame (or its HTTP status) that names the code and the frame."""

    def __init__(self, code: str, message: str, frame_id: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.code, self.message, self.frame_id, self.extra = code, message, frame_id, extra

    def frame(self) -> dict[str, Any]:
        frame: dict[str, Any] = {"type": "error", "code": self.code, "message": self.message, **self.extra}
        if self.frame_id is not None:
            frame["id"] = self.frame_id
        return frame


@dataclass
class Session:
    """One browser tab after its hello: a signed-in customer speaks as the customer, others as the visitor."""

    visitor_id: str
    thread_id: str
    locale: str | None
    customer_id: str | None = None
    seen_version: int = 0  # the thread's version when its history was read for the tab

    @property
    def identity(self) -> Identity:
        if self.customer_id is not None:
            return Identity(CUSTOMER_CHANNEL, self.customer_id)
        return Identity(WEB_CHANNEL, self.visitor_id)


def parsed_frame(data: str) -> dict[str, Any] | FrameError:
    """A client frame, or the error to answer it with (in turn with the others, by the tab's worker)."""
    try:
        frame = loads_text(data)
    except (json.JSONDecodeError, RecursionError):
        return FrameError("bad_frame", "frames must be JSON objects")
    except ValueError as exc:  # a lone surrogate: text no store can keep
        return FrameError("bad_frame", str(exc))
    return frame if isinstance(frame, dict) else FrameError("bad_frame", "frames must be JSON objects")


def inbound_of(session: Session, frame: dict[str, Any], max_chars: int) -> Inbound:
    """The message or event a frame brings to the tab's thread; a frame that is neither is a FrameError."""
    kind = frame.get("type")
    frame_id = frame.get("id")
    if not isinstance(frame_id, str) or not _CLIENT_ID.match(frame_id):
        raise FrameError("bad_frame", "every message and event needs an 'id' of 1 to 64 letters, digits or -_.:")
    message_id = f"web:{frame_id}"
    page = frame.get("page") if isinstance(frame.get("page"), str) else None
    metadata: dict[str, Any] = {"client_id": frame_id}
    if page:
        metadata["page"] = page[:500]
    if kind == "message":
        text = frame.get("text")
        if not isinstance(text, str) or not text.strip():
            raise FrameError("bad_frame", "'text' must be a non-empty string", frame_id)
        if len(text) > max_chars:
            raise FrameError("too_long", f"Your message is too long: at most {max_chars} characters.", frame_id)
        display = frame.get("display")
        if isinstance(display, str) and display.strip():
            metadata["display"] = display[:200]
        return Inbound(
            session.identity,
            "message",
            text=text,
            message_id=message_id,
            language_hint=session.locale,
            metadata=metadata,
            timestamp=time.time(),
        )
    if kind == "event":
        name = frame.get("name")
        data = frame.get("data") or {}
        if not isinstance(name, str) or not _EVENT_NAME.match(name):
            raise FrameError("bad_frame", "an event needs a 'name' of 1 to 64 letters, digits or -_.:", frame_id)
        if not isinstance(data, dict) or len(json.dumps(data)) > 4096:
            raise FrameError("bad_frame", "event 'data' must be an object of at most 4 KB", frame_id)
        return Inbound(
            session.identity,
            "event",
            event=name,
            data=data,
            message_id=message_id,
            language_hint=session.locale,
            metadata=metadata,
            timestamp=time.time(),
        )
    raise FrameError("bad_frame", f"unknown frame type {kind!r}", frame_id if isinstance(frame_id, str) else None)


def dumps(value: Any) -> str:
    """JSON as the widget reads it: every language's letters as they are, not escaped."""
    return json.dumps(value, ensure_ascii=False)
