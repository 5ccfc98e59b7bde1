"""Sending one reply's rendered bodies to a Meta platform, in order, and saying what happened.

Both Meta channels record the same two events about a delivery: ``delivered`` (the proof a restart looks
for: without it a redelivered webhook item sends these replies again), with the message ids the Send API
returned (their echoes are ours), or ``delivery_failed`` at the first body that could not be sent.
"""

from __future__ import annotations

from typing import Any

from bots.types import ThreadEvent
from connectors.meta.graph import GraphClient


async def send_bodies(
    graph: GraphClient,
    recipient: dict[str, str],
    bodies: list[dict[str, Any]],
    *,
    messaging_type: str,
    tag: str | None,
    channel: str,
    now: float,
) -> tuple[ThreadEvent, list[str]]:
    """Send in order, stopping at the first failure: the event to record, and the ids of what went out."""
    mids: list[str] = []
    for index, body in enumerate(bodies):
        result = await graph.send(recipient, body, messaging_type=messaging_type, tag=tag)
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
        if result.message_id:
            mids.append(result.message_id)
    return ThreadEvent("delivered", {"channel": channel, "messages": len(bodies), "mids": mids}, now, channel), mids
