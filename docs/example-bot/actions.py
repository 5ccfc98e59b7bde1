"""Custom actions of the example bot, written with rasa-sdk (a dict stands in for the shop's order system)."""

from rasa_sdk import Action
from rasa_sdk.events import SlotSet

ORDERS = {"ST-123456": "shipped", "ST-234567": "packing"}


class LookupOrder(Action):
    def name(self) -> str:
        return "lookup_order"

    async def run(self, dispatcher, tracker, domain):
        state = ORDERS.get(tracker.get_slot("order_number") or "")
        return [SlotSet("order_found", state is not None), SlotSet("order_state", state)]
