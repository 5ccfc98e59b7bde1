"""A tiny order table and product catalogue: a real shop would query its own systems here."""

from __future__ import annotations

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
