"""Turns the bot starts itself: a reminder an action scheduled, a follow-up campaign, a hand-off released."""

from __future__ import annotations

from typing import Any

from bots.flow.answers import coerce
from bots.flow.expressions import Template
from bots.flow.interpreter import interrupt, start_flow
from bots.flow.run import Run
from bots.flow.turn import Turn
from bots.payload import parse_payload
from bots.types import Text, ThreadEvent


def on_reminder(run: Run, reminder: dict[str, Any]) -> None:
    """A reminder is due: like the customer expressing its intent, on the channel they were last on."""
    state, bot = run.state, run.bot
    state.set_reminders([r for r in state.reminders if r["name"] != reminder["name"]])
    run.turn.reminder = reminder
    run.log(
        "reminder",
        status="fired",
        name=reminder["name"],
        intent=reminder["intent"],
        entities=reminder.get("entities") or {},
    )
    if state.handoff or state.opted_out:
        run.log("reminder", status="skipped", name=reminder["name"], reason="handoff" if state.handoff else "opted_out")
        return
    entities = dict(reminder.get("entities") or {})
    for name, value in entities.items():
        slot = bot.slots.get(name)
        if slot is not None and (answer := coerce(value, slot)).ok:
            run.set_slot(name, answer.value, f"reminder:{reminder['name']}")
    language = state.language or bot.default_language
    as_payload = f"/{reminder['intent']}"
    match = run.prepared.triggers.find(as_payload, parse_payload(as_payload), None, language)
    if match is None:
        run.log(
            "error",
            flow=None,
            error=f"reminder {reminder['name']!r}: no flow is triggered by intent {reminder['intent']!r}",
        )
        return
    run.turn.event_data = entities
    _forget_removed_flows(run)
    top = state.stack[-1] if state.stack else None
    if top is not None and top.waiting:
        if not bot.flows[top.flow].interruptible:
            run.log("reminder", status="skipped", name=reminder["name"], reason=f"{top.flow} is not interruptible")
            return
        interrupt(run, top, match.flow, trigger="reminder", tagged=True)
        return
    state.stack.clear()
    start_flow(run, match.flow, prefill=None)


def on_followup(run: Run, campaign: str, flow: str | None, texts: dict[str, str]) -> None:
    """A follow-up campaign reaches the thread: a flow started (interrupting an open question if it may), or a text."""
    state, bot = run.state, run.bot
    state.followups[campaign] = run.now
    run.log("followup", campaign=campaign, flow=flow, channel=run.channel)
    if flow is None:
        language = state.language or bot.default_language
        text = texts.get(language) or texts.get(bot.default_language) or next(iter(texts.values()), "")
        run.emit(Text(Template(text).render(run.values())))
        return
    _forget_removed_flows(run)
    top = state.stack[-1] if state.stack else None
    if top is not None and top.waiting and bot.flows[top.flow].interruptible:
        interrupt(run, top, flow, trigger="followup", tagged=True)
        return
    for frame in reversed(state.stack):
        run.log("flow", flow=frame.flow, status="ended", reason="followup")
    state.stack.clear()
    start_flow(run, flow, prefill=None)


def release_handoff(turn: Turn, now: float, by: str) -> None:
    """The bot answers again (a person is done with the conversation)."""
    if turn.state.handoff:
        turn.state.handoff = False
        turn.events.append(ThreadEvent("handoff", {"active": False, "by": by}, now))


def _forget_removed_flows(run: Run) -> None:
    if any(frame.flow not in run.bot.flows for frame in run.state.stack):
        run.state.stack.clear()  # a flow the bot no longer has (changed since): nothing to go back to
