"""Thread log entries as the widget shows them.

The widget renders the channel-neutral message model directly (the ``bot``
events of the log already hold it as JSON), so this only adds what a chat
window needs: a sequence number to order and de-duplicate by, who spoke,
and when.
"""

from __future__ import annotations

from typing import Any

from bots.types import StoredEvent

SHOWN_KINDS = ("user", "bot", "agent")


def chat_item(stored: StoredEvent) -> dict[str, Any] | None:
    event = stored.event
    if event.kind == "user":
        metadata = event.data.get("metadata") or {}
        text = metadata.get("display") or event.data.get("text", "")
        return {
            "seq": stored.seq,
            "role": "user",
            "ts": event.timestamp,
            "channel": event.channel,
            "type": "text",
            "text": text,
            "client_id": metadata.get("client_id"),
        }
    if event.kind in ("bot", "agent"):  # a person's reply shows as the business speaking, with their name
        return {
            "seq": stored.seq,
            "role": "bot",
            "ts": event.timestamp,
            "channel": event.channel,
            "type": "text",
            **event.data,
        }
    return None


def chat_items(events: list[StoredEvent] | tuple[StoredEvent, ...]) -> list[dict[str, Any]]:
    return [item for item in (chat_item(e) for e in events) if item is not None]
