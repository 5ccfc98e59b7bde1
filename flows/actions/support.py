"""The support ticket form: its validation and the day to hear back, written the customer's way."""

from __future__ import annotations

from datetime import date
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bots.locale_format import long_date


def day_of(value: Any) -> date | None:
    """The day an ISO 8601 date or time names; None for anything else."""
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


class ValidateSupportForm(FormValidationAction):
    """Refuses a day to hear back that has passed: the slot is emptied and the question asked again."""

    def name(self) -> str:
        return "validate_support_form"

    def validate_callback_date(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        day = day_of(value)
        if day is None or day < date.today():
            return {"callback_date": None}
        return {"callback_date": day.isoformat()}


class CheckCallbackDate(Action):
    """Empties a day to call back that has passed ("call me back yesterday at 5pm"), so the flow says so and
    asks again: it booked the call for yesterday."""

    def name(self) -> str:
        return "check_callback_date"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        day = day_of(tracker.get_slot("callback_date"))
        return [SlotSet("callback_date", None)] if day is not None and day < date.today() else []


class FormatCallbackDate(Action):
    """Writes the chosen day in full in the customer's language ("May 12, 2027", "12. Mai 2027")."""

    def name(self) -> str:
        return "format_callback_date"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        day = day_of(tracker.get_slot("callback_date"))
        return [SlotSet("callback-day", long_date(day, tracker.get_slot("locale")) if day else None)]
