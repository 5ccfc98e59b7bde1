"""Two threads of one customer become one: the rule, as a pure function.

This happens when a customer who already chatted on one side follows a link
from a thread on the other side (or signs in on a device where they chatted
anonymously). The rule, also in docs/linking.md:

- The surviving thread is the one the customer is continuing (the one the
  link names, or the signed-in customer's); the other one is folded into it
  and its id redirects to the survivor afterwards.
- Event logs are interleaved by time. Each log keeps its own order (a merge
  of two sorted runs, not a re-sort), and on equal times the survivor's
  event comes first. Nothing is dropped: a message id both logs share (never
  expected) is kept on the first event only. A ``merge`` event at the end
  records what happened.
- Slots: for each slot, the value of the thread that changed it last (by the
  time of its latest ``slot`` event) wins; a slot only one thread has is
  kept; with no change recorded on either side, the survivor's value wins.
  Overridden values stay in the log as ``slot`` events.
- Where the conversation stands (running flows and a pending question,
  language, current channel, the current flow's Messenger tag) comes from
  the thread the customer used most recently; the other thread's running
  flows end, and the merge event lists them.
- Everything else is combined: site events (by time, newest kept),
  reminders (by name, the later-scheduled one kept), the last time of
  activity per channel (the later one), campaigns already received. A
  hand-off or an opt-out on either side holds for the merged thread: the
  cautious choice. The Messenger notification token is the newer one.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Any

from bots.flow.state import MAX_SITE_EVENTS, ThreadState
from bots.types import ThreadEvent


@dataclass(frozen=True)
class MergeInput:
    thread_id: str
    state: dict[str, Any]
    events: list[ThreadEvent]


@dataclass(frozen=True)
class MergedThread:
    events: list[ThreadEvent]  # the survivor's new log, the merge event last
    state: dict[str, Any]
    record: dict[str, Any]  # what the merge event says


def _slot_changes(events: list[ThreadEvent]) -> dict[str, float]:
    changes: dict[str, float] = {}
    for event in events:
        if event.kind == "slot" and isinstance(event.data.get("name"), str):
            changes[event.data["name"]] = event.timestamp
    return changes


def _interleave(survivor: list[ThreadEvent], other: list[ThreadEvent]) -> tuple[list[ThreadEvent], int]:
    tagged = (
        (((e.timestamp, 0, i), e) for i, e in enumerate(survivor)),
        (((e.timestamp, 1, i), e) for i, e in enumerate(other)),
    )
    merged: list[ThreadEvent] = []
    seen: set[str] = set()
    cleared = 0
    for _key, event in heapq.merge(*tagged, key=lambda pair: pair[0]):
        message_id = event.message_id
        if message_id is not None:
            if message_id in seen:
                event = ThreadEvent(event.kind, event.data, event.timestamp, event.channel, None)
                cleared += 1
            else:
                seen.add(message_id)
        merged.append(event)
    return merged, cleared


def merge_threads(survivor: MergeInput, other: MergeInput, *, reason: str, now: float) -> MergedThread:
    keep, fold = ThreadState.from_json(survivor.state), ThreadState.from_json(other.state)
    keep_changes, fold_changes = _slot_changes(survivor.events), _slot_changes(other.events)

    slots = dict(keep.slots)
    from_other: list[str] = []
    for name, value in fold.slots.items():
        if name not in slots or fold_changes.get(name, float("-inf")) > keep_changes.get(name, float("-inf")):
            if slots.get(name, object()) != value:
                from_other.append(name)
            slots[name] = value

    active, inactive = (fold, keep) if fold.last_inbound_at > keep.last_inbound_at else (keep, fold)
    merged = ThreadState(
        language=active.language or inactive.language,
        slots=slots,
        stack=list(active.stack),
        handoff=keep.handoff or fold.handoff,
        opted_out=keep.opted_out or fold.opted_out,
        fallback_streak=0,
        site_events=sorted(keep.site_events + fold.site_events, key=lambda e: e.get("ts", 0))[-MAX_SITE_EVENTS:],
        turn=keep.turn + fold.turn,
        channel=active.channel or inactive.channel,
        last_inbound_at=max(keep.last_inbound_at, fold.last_inbound_at),
        last_inbound_by_channel={
            c: max(keep.last_inbound_by_channel.get(c, 0.0), fold.last_inbound_by_channel.get(c, 0.0))
            for c in {*keep.last_inbound_by_channel, *fold.last_inbound_by_channel}
        },
        message_tag=active.message_tag,
        notification_token=active.notification_token or inactive.notification_token,
        followups={**inactive.followups, **active.followups},
        epoch=f"{int(now * 1000):x}",  # sequence numbers changed: chat windows must reload
    )
    reminders: dict[str, dict[str, Any]] = {}
    for reminder in keep.reminders + fold.reminders:
        previous = reminders.get(reminder["name"])
        if previous is None or reminder.get("scheduled_at", 0) > previous.get("scheduled_at", 0):
            reminders[reminder["name"]] = reminder
    merged.set_reminders(list(reminders.values()))

    events, cleared = _interleave(survivor.events, other.events)
    ended = [frame.flow for frame in inactive.stack]
    record = {
        "status": "merged",
        "reason": reason,
        "into": survivor.thread_id,
        "merged": other.thread_id,
        "events_moved": len(other.events),
        "slots_from_merged": sorted(from_other),
        "conversation_from": other.thread_id if active is fold else survivor.thread_id,
        "flows_ended": ended,
        "duplicate_message_ids": cleared,
    }
    events.append(ThreadEvent("merge", record, now))
    return MergedThread(events, merged.to_json(), record)
