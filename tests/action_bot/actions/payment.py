"""A Rasa form written as Rasa users write them: a FormValidationAction with ``required_slots``,
``extract_<slot>`` and ``validate_<slot>``, and an action that, like the financial demo's, reverts the message
and goes back to the active form when it interrupts one."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, FollowupAction, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

Events = list[dict[str, Any]]
BIG = 100  # a payment above this needs a memo


class ValidatePaymentForm(FormValidationAction):
    def name(self) -> str:
        return "validate_payment_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[str]:
        amount = tracker.get_slot("amount")
        return ["amount", "payee"] + (["memo"] if amount is not None and float(amount) > BIG else [])

    async def extract_payee(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """ "50 to Bob" answers the amount question and names the payee too."""
        if tracker.get_slot("requested_slot") != "amount":
            return {}
        found = re.search(r"\bto (\w+)", tracker.latest_message.get("text") or "")
        return {"payee": found.group(1)} if found else {}

    def validate_amount(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if float(value) <= 0:
            dispatcher.utter_message(text="The amount must be above zero.")
            return {"amount": None}
        return {"amount": value}

    async def validate_payee(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if str(value).lower() == "nobody":  # start over: required_slots then requests the amount again
            dispatcher.utter_message(text="Payment cancelled.")
            return {"payee": None, "amount": None}
        return {"payee": str(value).title()}


class ShowBalance(Action):
    """The financial demo's pattern: inside a form, revert the message and go back to the form."""

    def name(self) -> str:
        return "show_balance"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        dispatcher.utter_message(text="Your balance is 100.")
        form = tracker.active_loop.get("name")
        if form:
            return [UserUtteranceReverted(), FollowupAction(form)]
        return []


class StopForm(Action):
    """Ends whatever form is active, as an action in Rasa does with ``ActiveLoop(None)``."""

    def name(self) -> str:
        return "stop_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        dispatcher.utter_message(text=f"Stopped {tracker.active_loop.get('name')}.")
        return [ActiveLoop(None)]
