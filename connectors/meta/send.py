"""Sending one reply's rendered bodies to a Meta platform, in order, and saying what happened.

Both Meta channels record the same two events about a delivery: ``delivered`` (the proof a restart looks
for: without it a redelivered webhook item sends these replies again), with the message ids the Send API
returned (their echoes are ours), or ``delivery_failed`` at the first body that could not be sent.

A ``delivered`` event is committed only after the last body, so a crash in between used to send every body
again. ``on_sent`` is told after each body but the last that the Send API accepted, to record it durably (the
last one's record is the ``delivered`` event, written as soon as this returns), and ``skip`` resumes after the
bodies recorded before a crash: only a body accepted in the instant before the crash, whose record was not
written yet, is sent twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bots.types import ThreadEvent, TurnOutcome
from connectors.base import WebhookInbox
from connectors.meta.graph import GraphClient

OnSent = Callable[[int], Awaitable[None]]


async def resume_point(
    inbox: WebhookInbox, outcome: TurnOutcome, *, item: str, turn: str | None
) -> tuple[int, OnSent | None]:
    """Where a turn's replies resume (the replies an earlier run marked sent), and how to mark the next ones.

    Only a turn with a message id can be marked; a first run (not a duplicate turn) resumes at 0.
    """
    if not turn:
        return 0, None

    async def mark(count: int) -> None:
        await inbox.mark_sent(item, turn, count)

    return (await inbox.sent(item, turn) if outcome.duplicate else 0), mark


async def send_bodies(
    graph: GraphClient,
    recipient: dict[str, str],
    bodies: list[dict[str, Any]],
    *,
    messaging_type: str,
    tag: str | None,
    channel: str,
    now: float,
    skip: int = 0,
    on_sent: OnSent | None = None,
) -> tuple[ThreadEvent, list[str]]:
    """Send in order from body ``skip`` on, stopping at the first failure: the event to record, and the ids of
    what went out. ``on_sent(n)`` runs after the Send API accepted body ``n - 1`` (n bodies are out), but not
    after the last body: the caller records the ``delivered`` event for that one."""
    mids: list[str] = []
    for index in range(skip, len(bodies)):
        result = await graph.send(recipient, bodies[index], messaging_type=messaging_type, tag=tag)
        if not result.ok:
            failed = {
                "channel": channel,
                "reason": result.reason,
                "code": result.code,
                "subcode": result.subcode,
                "message": result.message,
                "attempts": result.attempts,
                "mids": mids,
                "unsent": len(bodies) - index,
            }
            return ThreadEvent("delivery_failed", failed, now, channel), mids
        if on_sent is not None and index + 1 < len(bodies):
            await on_sent(index + 1)
        if result.message_id:
            mids.append(result.message_id)
    delivered: dict[str, Any] = {"channel": channel, "messages": len(bodies), "mids": mids}
    if skip:
        delivered["sent_before"] = min(skip, len(bodies))  # sent before a restart, not sent again
    return ThreadEvent("delivered", delivered, now, channel), mids
