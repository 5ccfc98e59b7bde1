"""Order lookup: the order_status and return_item flows ask for the number, this finds the order."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.catalogue import ORDERS


class LookupOrder(Action):
    def name(self) -> str:
        return "lookup_order"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        order = ORDERS.get(str(tracker.get_slot("order_number") or "").upper())
        if order is None:
            return [
                SlotSet("order_found", False),
                SlotSet("order_state", None),
                SlotSet("order_item", None),
                SlotSet("order_eta", None),
            ]
        return [
            SlotSet("order_found", True),
            SlotSet("order_state", order["state"]),
            SlotSet("order_item", order["item"]),
            SlotSet("order_eta", order["eta"]),
        ]
