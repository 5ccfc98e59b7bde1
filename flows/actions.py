"""Custom actions of the Stride demo bot: a tiny order table and product catalogue.

A real shop would query its order system here; the demo keeps a few rows in
memory so every flow can be tried with the numbers in the README.
"""

from __future__ import annotations

from bots.actions import ActionCall, ActionRegistry, ActionResult

actions = ActionRegistry()

ORDERS = {
    "ST-123456": {"state": "shipped", "item": "Trail Runner 2, EU 42", "eta": "2026-12-02"},
    "ST-234567": {"state": "delivered", "item": "City Glide, EU 39", "eta": "2026-11-20"},
    "ST-345678": {"state": "processing", "item": "Marathon Pro, EU 44", "eta": "2026-12-05"},
    "ST-456789": {"state": "cancelled", "item": "Kids Sprint, EU 33", "eta": ""},
}

PRODUCTS = {
    "TR2": {"name": "Trail Runner 2", "price": "€129", "url": "/products/TR2", "sizes": (36, 48)},
    "CG1": {"name": "City Glide", "price": "€99", "url": "/products/CG1", "sizes": (35, 47)},
    "MP3": {"name": "Marathon Pro", "price": "€159", "url": "/products/MP3", "sizes": (38, 47)},
    "KS1": {"name": "Kids Sprint", "price": "€59", "url": "/products/KS1", "sizes": (28, 38)},
}


@actions.register("lookup_order")
async def lookup_order(call: ActionCall) -> ActionResult:
    order = ORDERS.get(str(call.slots.get("order_number") or "").upper())
    if order is None:
        return ActionResult(slots={"order_found": False, "order_state": None, "order_item": None, "order_eta": None})
    return ActionResult(slots={"order_found": True, "order_state": order["state"], "order_item": order["item"],
                               "order_eta": order["eta"]})


@actions.register("lookup_product")
async def lookup_product(call: ActionCall) -> ActionResult:
    product = PRODUCTS.get(str(call.slots.get("sku") or "").upper())
    if product is None:
        return ActionResult(slots={"product_name": None, "product_price": None, "product_url": None,
                                   "size_min": None, "size_max": None})
    return ActionResult(slots={"product_name": product["name"], "product_price": product["price"],
                               "product_url": product["url"], "size_min": product["sizes"][0],
                               "size_max": product["sizes"][1]})
