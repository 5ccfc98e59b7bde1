"""What an agent does to a conversation, as actions for :meth:`bots.threads.desk.Desk.change`: each changes
the inbox record and the thread's state together and logs why, or returns why not (nothing changes then).

While a person holds a thread (``handoff`` in its state) the bot stays quiet; handing it back or closing it
lets the bot answer the customer's next message again.
"""

from __future__ import annotations

from bots.flow.state import ThreadState
from bots.inbox.accounts import Agent
from bots.threads.desk import Action, Row
from bots.types import ThreadEvent


def _hold(state: ThreadState, now: float, by: str, events: list[ThreadEvent]) -> None:
    """A person takes the chat: the bot's open questions end and it stays quiet."""
    if not state.handoff:
        for frame in reversed(state.stack):
            events.append(ThreadEvent("flow", {"flow": frame.flow, "status": "ended", "reason": "agent"}, now))
        state.stack.clear()
        state.handoff = True
        events.append(ThreadEvent("handoff", {"active": True, "reason": "agent", "by": by}, now))


def _release(state: ThreadState, now: float, by: str, events: list[ThreadEvent]) -> None:
    if state.handoff:
        state.handoff = False
        events.append(ThreadEvent("handoff", {"active": False, "by": by}, now))


def _may_change(row: Row, agent: Agent) -> str | None:
    holder = row.get("assignee")
    if holder not in (None, agent.name) and not agent.admin:
        return f"conflict: {holder} holds this conversation; they or an admin may pass it on"
    return None


def assign(agent: Agent, to: str) -> Action:
    """Take the conversation (``to`` is the agent) or transfer it to another agent."""

    def action(row: Row, state: ThreadState, now: float) -> list[ThreadEvent] | str:
        if (refusal := _may_change(row, agent)) is not None:
            return refusal
        if row.get("assignee") == to:
            return []
        events: list[ThreadEvent] = []
        _hold(state, now, agent.name, events)
        was = row.get("assignee")
        row.update(status="open", assignee=to, queued_at=row.get("queued_at") or now)
        verb = "assigned" if was is None else "transferred"
        events.append(ThreadEvent("inbox", {"action": verb, "to": to, "from": was, "by": agent.name}, now))
        return events

    return action


def unassign(agent: Agent) -> Action:
    """Back to the queue: a person is still needed, just not this one."""

    def action(row: Row, state: ThreadState, now: float) -> list[ThreadEvent] | str:
        if (refusal := _may_change(row, agent)) is not None:
            return refusal
        if row.get("assignee") is None:
            return []
        was = row["assignee"]
        row.update(assignee=None, queued_at=now)
        return [ThreadEvent("inbox", {"action": "unassigned", "from": was, "by": agent.name}, now)]

    return action


def hand_back(agent: Agent) -> Action:
    """The bot answers again."""

    def action(row: Row, state: ThreadState, now: float) -> list[ThreadEvent] | str:
        if (refusal := _may_change(row, agent)) is not None:
            return refusal
        events: list[ThreadEvent] = []
        _release(state, now, agent.name, events)
        row.update(assignee=None, queued_at=None)
        events.append(ThreadEvent("inbox", {"action": "handed_back", "by": agent.name}, now))
        return events

    return action


def close(agent: Agent) -> Action:
    """Done: out of the open lists; the bot answers the customer's next message, which opens it again."""

    def action(row: Row, state: ThreadState, now: float) -> list[ThreadEvent] | str:
        if (refusal := _may_change(row, agent)) is not None:
            return refusal
        if row["status"] == "closed":
            return []
        events: list[ThreadEvent] = []
        _release(state, now, agent.name, events)
        row.update(status="closed", assignee=None, queued_at=None, closed_at=now)
        events.append(ThreadEvent("inbox", {"action": "closed", "by": agent.name}, now))
        return events

    return action


def note(agent: Agent, text: str) -> Action:
    """An internal note: in the thread's log for agents, never sent (no channel shows this kind)."""

    def action(row: Row, state: ThreadState, now: float) -> list[ThreadEvent] | str:
        return [ThreadEvent("agent_note", {"text": text, "by": agent.name}, now)]

    return action


def read(agent: Agent, version: int) -> Action:
    """The agent has seen the thread up to ``version``."""

    def action(row: Row, state: ThreadState, now: float) -> list[ThreadEvent] | str:
        marks = dict(row.get("read") or {})
        marks[agent.name] = max(int(marks.get(agent.name, 0)), version)
        row["read"] = marks
        return []

    return action
