"""Reminders an action schedules or cancels (Rasa's ``ReminderScheduled`` and ``ReminderCancelled``), on the state."""

from __future__ import annotations

from typing import Any

from bots.flow import effects as fx
from bots.flow.run import Run


def schedule_reminder(run: Run, effect: fx.ScheduleReminder, source: str) -> None:
    if effect.due <= run.now:  # as Rasa's scheduler does with a time already past: not run
        run.log(
            "reminder",
            status="dropped",
            name=effect.name,
            intent=effect.intent,
            due=effect.due,
            by=source,
            reason="its time has already passed",
        )
        return
    reminder = {
        "name": effect.name,
        "intent": effect.intent,
        "entities": dict(effect.entities),
        "due": effect.due,
        "kill_on_user_message": effect.kill_on_user_message,
        "scheduled_at": run.now,
    }
    kept = [r for r in run.state.reminders if r["name"] != effect.name]  # the same name replaces
    run.state.set_reminders(kept + [reminder])
    run.log("reminder", status="scheduled", by=source, **{k: v for k, v in reminder.items() if k != "scheduled_at"})


def cancel_reminders(run: Run, effect: fx.CancelReminder, source: str) -> None:
    def matches(reminder: dict[str, Any]) -> bool:
        return (
            (effect.name is None or reminder["name"] == effect.name)
            and (effect.intent is None or reminder["intent"] == effect.intent)
            and (not effect.entities or all(reminder["entities"].get(k) == v for k, v in effect.entities.items()))
        )

    cancelled = [r for r in run.state.reminders if matches(r)]
    for reminder in cancelled:
        run.log("reminder", status="cancelled", name=reminder["name"], by=source)
    run.state.set_reminders([r for r in run.state.reminders if not matches(r)])
