"""Actions that misbehave in the ways real ones do: loops, odd values, blocking validators, lazy imports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, ReminderScheduled, SlotSet
from rasa_sdk.executor import CollectingDispatcher

Events = list[dict[str, Any]]


class FollowSelf(Action):
    """Follows up with its own flow: without a limit this would never end."""

    def name(self) -> str:
        return "follow_self"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        return [FollowupAction("follow_self_flow")]


class TalkSelf(Action):
    """Says something and follows up with its own flow, the state unchanged: a loop from the first repeat."""

    def name(self) -> str:
        return "talk_self"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        dispatcher.utter_message(text="Still here.")
        return [FollowupAction("talk_self_flow")]


class CountSelf(Action):
    """Says something new each round and follows up with its own flow: a loop whose state never repeats."""

    def name(self) -> str:
        return "count_self"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        rounds = int(tracker.get_slot("counter") or 0) + 1
        dispatcher.utter_message(text=f"Round {rounds}.")
        return [SlotSet("counter", rounds), FollowupAction("count_self_flow")]


class RemindInThePast(Action):
    def name(self) -> str:
        return "remind_past"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        return [ReminderScheduled("remind_intent", datetime.now(UTC) - timedelta(seconds=5), name="past")]


class RemindTagged(Action):
    def name(self) -> str:
        return "remind_tagged"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        return [ReminderScheduled("tagged_intent", datetime.now(UTC) + timedelta(seconds=1), name="tagged")]


class Reminded(Action):
    """What a reminder's flow sees: the reminder's intent and entities as the latest message."""

    def name(self) -> str:
        return "reminded"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        note = next(tracker.get_latest_entity_values("note"), "?")
        dispatcher.utter_message(text=f"Reminder {note}!")
        return []


class OddValues(Action):
    """One unusable event among good ones."""

    def name(self) -> str:
        return "odd_values"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        return [
            SlotSet("color", "kept"),
            {"event": "reminder", "intent": "remind_intent", "date_time": "tomorrow"},
            SlotSet("count", 7),
        ]


class NotJson(Action):
    """A value JSON cannot carry: an action server fails on it, and so must the in-process path."""

    def name(self) -> str:
        return "not_json"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        dispatcher.utter_message(json_message={"when": datetime(2026, 1, 2, 3, 4, 5)})
        return [SlotSet("color", "never")]


class LazyImport(Action):
    def name(self) -> str:
        return "lazy_import"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        from actions.data import VALUE

        dispatcher.utter_message(text=VALUE)
        return []
