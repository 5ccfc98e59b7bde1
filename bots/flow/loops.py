"""Action loops cut before they flood the customer.

An action that follows up with its own flow, or reverts the message and
restarts what was running, would run for ever. Two rules stop it: an action
asked for again on the very same state (same stack, same slots) is a loop at
once, since nothing can change the next round; any other loop stops at
``MAX_ACTIONS_PER_TURN``. Either way what the loop said after its first round
is dropped, identical messages are said once, and one apology ends the turn.
"""

from __future__ import annotations

import json

from bots.flow.state import ThreadState
from bots.flow.turn import MAX_ACTIONS_PER_TURN, ActionRequest, Turn
from bots.types import Outbound


def _signature(request: ActionRequest, state: ThreadState) -> str:
    frames = [(f.flow, f.pc, f.waiting, f.attempts) for f in state.stack]
    return json.dumps(
        [request.name, request.flow, request.validate_slot, frames, state.slots, state.handoff, state.language],
        sort_keys=True,
        default=str,
    )


def loop_reason(turn: Turn, request: ActionRequest) -> str | None:
    """Why ``request`` must not run (a loop), or None; remembers the request for the next call."""
    if turn.actions_run >= MAX_ACTIONS_PER_TURN:
        return f"more than {MAX_ACTIONS_PER_TURN} actions in one turn (a loop of actions, follow-ups or gotos?)"
    signature = _signature(request, turn.state)
    if signature in turn.requested:
        return f"action {request.name} was asked for again on the very same state (a loop of follow-ups?)"
    turn.requested.add(signature)
    return None


def mark_first_round(turn: Turn, action: str) -> None:
    """Remember how much the turn had said when ``action`` first finished: a loop keeps no more than that."""
    turn.said_by_first.setdefault(action, len(turn.outbound))


def trim_loop(turn: Turn, action: str) -> None:
    """Drop what a loop of ``action`` said after its first round, and say each identical message once."""
    if action in turn.said_by_first:
        del turn.outbound[turn.said_by_first[action] :]
    kept: list[Outbound] = []
    for message in turn.outbound:
        if message not in kept:
            kept.append(message)
    turn.outbound[:] = kept
