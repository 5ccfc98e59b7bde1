"""Actions that return each kind of Rasa event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import (
    AllSlotsReset,
    ConversationPaused,
    ConversationResumed,
    FollowupAction,
    LoopInterrupted,
    ReminderCancelled,
    ReminderScheduled,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
)
from rasa_sdk.executor import CollectingDispatcher

Events = list[dict[str, Any]]


class SetSlots(Action):
    def name(self) -> str:
        return "set_slots"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        return [SlotSet("color", "red"), SlotSet("count", 3)]


class ResetAll(Action):
    def name(self) -> str:
        return "reset_all"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        return [AllSlotsReset()]


class FollowFlow(Action):
    def name(self) -> str:
        return "follow_flow"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        return [FollowupAction("second")]


class FollowAction(Action):
    def name(self) -> str:
        return "follow_action"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        dispatcher.utter_message(text="first the follow-up")
        return [FollowupAction("set_slots")]


class Pause(Action):
    def name(self) -> str:
        return "pause"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        dispatcher.utter_message(text="A person will take over.")
        return [ConversationPaused()]


class PauseResume(Action):
    def name(self) -> str:
        return "pause_resume"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        return [ConversationPaused(), ConversationResumed()]


class Restart(Action):
    def name(self) -> str:
        return "restart"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        dispatcher.utter_message(text="Starting over.")
        return [Restarted()]


class Revert(Action):
    def name(self) -> str:
        return "revert"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        dispatcher.utter_message(response="oops")
        return [UserUtteranceReverted()]


def _in(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


class Remind(Action):
    def name(self) -> str:
        return "remind"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        seconds = float((tracker.latest_message.get("metadata") or {}).get("in", 1.0))
        dispatcher.utter_message(text=f"I'll remind you in {seconds:g}s.")
        return [
            ReminderScheduled(
                "remind_intent", _in(seconds), entities={"note": "stretch"}, name="r1", kill_on_user_message=False
            )
        ]


class RemindKillable(Action):
    def name(self) -> str:
        return "remind_killable"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        return [
            ReminderScheduled(
                "remind_intent",
                _in(1.0),
                entities=[{"entity": "note", "value": "killable"}],
                name="r2",
                kill_on_user_message=True,
            )
        ]


class CancelReminder(Action):
    def name(self) -> str:
        return "cancel_reminder"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        return [ReminderCancelled(name="r1")]


class Unsupported(Action):
    def name(self) -> str:
        return "unsupported"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        return [LoopInterrupted(True), SessionStarted(), SlotSet("color", "green")]
