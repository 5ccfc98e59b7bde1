"""A rasa-sdk form validation action for the survey flow (a flow with questions is a form)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher

from .gate import hold

COLORS = ("red", "blue", "green")


class ValidateSurvey(FormValidationAction):
    def name(self) -> str:
        return "validate_survey"

    def validate_color(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if value == "slowcolor":  # a validator that blocks (plain def): other conversations must not wait
            hold(tracker)
        if str(value).strip().lower() in COLORS:
            return {"color": str(value).strip().lower()}
        dispatcher.utter_message(text=f"We don't make shoes in {value}.")
        return {"color": None}
