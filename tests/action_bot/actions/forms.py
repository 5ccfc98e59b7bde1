"""A rasa-sdk form validation action for the survey form (the flow declares ``form: survey``)."""

from __future__ import annotations

import time
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher

COLORS = ("red", "blue", "green")


class ValidateSurvey(FormValidationAction):
    def name(self) -> str:
        return "validate_survey"

    def validate_color(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if value == "slowcolor":  # a validator that blocks (plain def): other conversations must not wait
            time.sleep(1.0)
        if str(value).strip().lower() == "none":  # no color at all: the form ends (Rasa's requested_slot None)
            dispatcher.utter_message(text="No color then.")
            return {"color": None, "requested_slot": None}
        if str(value).strip().lower() in COLORS:
            return {"color": str(value).strip().lower()}
        dispatcher.utter_message(text=f"We don't make shoes in {value}.")
        return {"color": None}
