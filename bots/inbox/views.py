"""What the inbox shows: the conversation lists (with search) and one thread in full.

The lists are built from the conversations' inbox records (who holds each thread, since when) and the
threads themselves (channels, language, slots, messages): nothing about the customer is copied out of
their thread, so forgetting a thread forgets it here too.
"""

from __future__ import annotations

from typing import Any

from bots.threads.desk import Desk, Row

LISTS = ("queue", "mine", "open", "closed")
SEARCHED_EVENTS = 500  # the last messages of each thread a text search looks through
SHOWN_EVENTS = 1000
TEXT_KINDS = ("user", "bot", "agent", "agent_note")
LAST_MESSAGE_EVENTS = 50  # how far back a row looks for the customer's last message
SHORT_ID = 14  # a channel id longer than this is shown as its start and end


def in_list(name: str, row: Row, agent: str) -> bool:
    if name == "closed":
        return bool(row["status"] == "closed")
    if row["status"] != "open":
        return False
    if name == "queue":
        return bool(row.get("queued_at")) and row.get("assignee") is None
    if name == "mine":
        return row.get("assignee") == agent
    return True


def _texts(value: Any) -> list[str]:
    """Every string in a slot value (an order number may sit in a list or a dict)."""
    if isinstance(value, dict):
        return [t for v in value.values() for t in _texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    return [str(value)] if value is not None else []


def shortened(user_id: str) -> str:
    """A channel id short enough for a list row (a PSID or a widget's id is long), still telling rows apart."""
    return user_id if len(user_id) <= SHORT_ID else f"{user_id[:8]}…{user_id[-4:]}"


def customer_of(state: dict[str, Any], identities: list[Any]) -> str:
    """Who the customer is, for a list row: their name or e-mail if the bot learned it, else a channel id."""
    slots = state.get("slots") or {}
    for known in (slots.get("name"), slots.get("email")):
        if isinstance(known, str) and known.strip():
            return known.strip()
    return shortened(identities[0].user_id) if identities else ""


class Views:
    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    async def conversations(
        self, name: str, agent: str, *, query: str = "", now: float, limit: int = 100
    ) -> list[dict[str, Any]]:
        """One list (``queue`` oldest first; the others most recent first), of those matching ``query``."""
        records = await self.desk.conversations()
        rows = [(tid, row) for tid, row in records.items() if in_list(name, row, agent)]
        if query and name != "queue":  # the bot's own conversations too, by the customer's exact id
            known = {tid for tid, _row in rows}
            for thread_id in await self.desk.find_user(query):
                row = records.get(thread_id) or {"status": "open", "assignee": None, "queued_at": None}
                if thread_id not in known and in_list(name, row, agent):
                    rows.append((thread_id, row))
        if name == "queue":
            rows.sort(key=lambda item: float(item[1]["queued_at"]))
        shown: list[dict[str, Any]] = []
        for thread_id, row in rows:
            item = await self._item(thread_id, row, agent, query, now)
            if item is not None and all(item["thread_id"] != s["thread_id"] for s in shown):
                shown.append(item)
        if name != "queue":
            shown.sort(key=lambda item: item["updated_at"], reverse=True)
        return shown[:limit]

    async def _item(self, thread_id: str, row: Row, agent: str, query: str, now: float) -> dict[str, Any] | None:
        snapshot = await self.desk.snapshot(thread_id)
        if snapshot is None:  # forgotten, or merged into another thread (which then shows it)
            into = await self.desk.forget_row(thread_id, row)
            return await self._item(into, row, agent, query, now) if into is not None else None
        identities = await self.desk.identities(thread_id)
        if query and not await self._matches(query, thread_id, snapshot.version, snapshot.state, identities):
            return None
        queued_at = row.get("queued_at")
        return {
            "thread_id": thread_id,
            "status": row["status"],
            "assignee": row.get("assignee"),
            "queued_at": queued_at,
            "waiting_seconds": round(now - float(queued_at), 1) if queued_at and not row.get("assignee") else None,
            "channels": self.desk.channel_names(identities),
            "language": snapshot.state.get("language"),
            "customer": customer_of(snapshot.state, identities),
            "last_message": await self._last_message(thread_id, snapshot.version),
            "online": await self.desk.online(thread_id) > 0,
            "updated_at": snapshot.updated_at,
            "unread": snapshot.version > int((row.get("read") or {}).get(agent, 0)),
        }

    async def _last_message(self, thread_id: str, version: int) -> str:
        """The customer's last message, so that rows waiting side by side can be told apart at a glance."""
        for stored in reversed(await self.desk.events(thread_id, version, LAST_MESSAGE_EVENTS)):
            text = stored.event.data.get("text") if stored.event.kind == "user" else None
            if isinstance(text, str) and text.strip():
                return text[:200]
        return ""

    async def _matches(
        self, query: str, thread_id: str, version: int, state: dict[str, Any], identities: list[Any]
    ) -> bool:
        """Text, a customer's identity (e-mail, PSID, sender) or a slot value such as an order number."""
        wanted = query.casefold()
        if any(wanted in i.user_id.casefold() for i in identities):
            return True
        if any(wanted in text.casefold() for text in _texts(state.get("slots") or {})):
            return True
        for stored in await self.desk.events(thread_id, version, SEARCHED_EVENTS):
            text = stored.event.data.get("text") if stored.event.kind in TEXT_KINDS else None
            if isinstance(text, str) and wanted in text.casefold():
                return True
        return False

    async def thread(self, thread_id: str, agent: str) -> dict[str, Any] | None:
        """The whole thread as the customer saw it on every channel, with what an agent needs beside it."""
        thread_id = await self.desk.current(thread_id)
        snapshot = await self.desk.snapshot(thread_id)
        if snapshot is None:
            return None
        row = await self.desk.conversation(thread_id) or {"status": "open", "assignee": None, "queued_at": None}
        identities = await self.desk.identities(thread_id)
        state = snapshot.state
        return {
            "thread_id": thread_id,
            "version": snapshot.version,
            "status": row["status"],
            "assignee": row.get("assignee"),
            "queued_at": row.get("queued_at"),
            "read": int((row.get("read") or {}).get(agent, 0)),
            "handoff": bool(state.get("handoff")),
            "language": state.get("language"),
            "current_channel": state.get("channel"),
            "channels": self.desk.channel_names(identities),
            "identities": [{"channel": i.channel, "user_id": i.user_id} for i in identities],
            "linked_threads": await self.desk.merged(thread_id),
            "online": await self.desk.online(thread_id) > 0,
            "slots": state.get("slots") or {},
            "context": state.get("site_events") or [],  # products viewed, the referral that brought them
            "events": [e.to_json() for e in await self.desk.events(thread_id, snapshot.version, SHOWN_EVENTS)],
        }
