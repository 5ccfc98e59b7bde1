"""A tiny order table and product catalogue: a real shop would query its own systems here.

Delivery dates are days from today (``eta_days``), so the demo's orders stay current; prices are in euros and
shown in the customer's language by ``bots.locale_format`` (in the bot's locale for it, ``settings.locales``).
"""

from __future__ import annotations

from typing import Any

ORDERS: dict[str, dict[str, Any]] = {
    "ST-123456": {"state": "shipped", "item": "Trail Runner 2, EU 42", "eta_days": 2},
    "ST-234567": {"state": "delivered", "item": "City Glide, EU 39", "eta_days": -3},
    "ST-345678": {"state": "processing", "item": "Marathon Pro, EU 44", "eta_days": 4},
    "ST-456789": {"state": "cancelled", "item": "Kids Sprint, EU 33", "eta_days": None},
}

PRODUCTS: dict[str, dict[str, Any]] = {
    "TR2": {"name": "Trail Runner 2", "price": 129, "url": "/products/TR2", "sizes": (36, 48)},
    "CG1": {"name": "City Glide", "price": 99, "url": "/products/CG1", "sizes": (35, 47)},
    "MP3": {"name": "Marathon Pro", "price": 159, "url": "/products/MP3", "sizes": (38, 47)},
    "KS1": {"name": "Kids Sprint", "price": 59, "url": "/products/KS1", "sizes": (28, 38)},
}
