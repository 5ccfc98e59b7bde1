"""Order lookup: the order_status and return_item flows ask for the number, this finds the order.

The delivery date is said in the customer's language ("December 8, 2026", "8. Dezember 2026").
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.catalogue import ORDERS
from bots.locale_format import long_date


def eta(days_from_today: int | None, locale: str | None) -> str | None:
    """The order's delivery date (expected or past), written the customer's way; None when there is none."""
    if days_from_today is None:
        return None
    return long_date(date.today() + timedelta(days=days_from_today), locale)


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
            SlotSet("order_eta", eta(order["eta_days"], tracker.get_slot("locale"))),
        ]
