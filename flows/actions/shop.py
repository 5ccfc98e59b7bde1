"""Product lookup by SKU, and what the customer looked at on the website (retargeting context)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.catalogue import PRODUCTS
from bots.locale_format import money_text

RECALL_SECONDS = 2 * 24 * 3600  # what was viewed in the last two days still counts


def product_slots(sku: str | None, locale: str | None) -> list[dict[str, Any]]:
    """The product's slots, its price in the customer's language ("€129", "129\u00a0€")."""
    product = PRODUCTS.get(str(sku or "").upper())
    if product is None:
        return [
            SlotSet(name, None) for name in ("product_name", "product_price", "product_url", "size_min", "size_max")
        ]
    return [
        SlotSet("product_name", product["name"]),
        SlotSet("product_price", money_text(product["price"], "EUR", locale)),
        SlotSet("product_url", product["url"]),
        SlotSet("size_min", product["sizes"][0]),
        SlotSet("size_max", product["sizes"][1]),
    ]


class LookupProduct(Action):
    def name(self) -> str:
        return "lookup_product"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        return product_slots(tracker.get_slot("sku"), tracker.get_slot("locale"))


class RecallViewedProduct(Action):
    """Welcome a returning visitor with the product they last looked at on the site.

    Site events reach the tracker as ``{"event": "site_event", "name": "product_viewed",
    "data": {"sku": ...}}``, on whichever channel the conversation is now.
    """

    def name(self) -> str:
        return "recall_viewed_product"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        latest = max((e.get("timestamp") or 0 for e in tracker.events), default=0)
        for event in reversed(tracker.events):
            if (
                event.get("event") == "site_event"
                and event.get("name") == "product_viewed"
                and latest - (event.get("timestamp") or 0) <= RECALL_SECONDS
            ):
                sku = str((event.get("data") or {}).get("sku") or "").upper()
                if sku in PRODUCTS:
                    return [SlotSet("sku", sku), *product_slots(sku, tracker.get_slot("locale"))]
        return [SlotSet("sku", None), *product_slots(None, None)]
