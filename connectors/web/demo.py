"""The Stride demo shop: product pages with the widget on them, so `make run` shows the whole product.

Each product page records a ``product_viewed`` site event through the
widget's ``Threadline.track``; the demo bot offers help when the same shoe is
viewed a second time. The other pages are the targets of the demo flows'
links (cart, shipping, sale, return labels).
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from aiohttp import web

TEMPLATE = (Path(__file__).parent / "static" / "demo.html").read_text(encoding="utf-8")

PRODUCTS = {
    "TR2": (
        "Trail Runner 2",
        "€129",
        "trail-runner-2.png",
        "A grippy, waterproof trail shoe with 5 mm lugs and a rock plate, for muddy climbs and technical descents.",
    ),
    "CG1": (
        "City Glide",
        "€99",
        "city-glide.png",
        "A light everyday running shoe with a soft foam midsole for tarmac, park loops and commutes.",
    ),
    "MP3": (
        "Marathon Pro",
        "€159",
        "marathon-pro.png",
        "Our race-day shoe: a carbon plate, a rockered sole and 198 g in size 42.",
    ),
    "KS1": ("Kids Sprint", "€59", "kids-sprint.png", "Sturdy, easy-to-close running shoes for kids, sizes 28 to 38."),
}
PAGES = {
    "cart": ("Your cart", "This is the demo shop: the cart is where a real shop would take the order."),
    "shipping": (
        "Shipping",
        "Standard delivery: 2–4 working days, free from €50 (otherwise €4.95). "
        "Express: next working day, €9.95. We ship to all EU countries.",
    ),
    "sale": ("Summer sale", "20% off all trail shoes until Sunday."),
}


def page(title: str, body: str, track: dict[str, str] | None = None) -> web.Response:
    track_script = ""
    if track is not None:
        payload = json.dumps(track).replace("</", "<\\/")
        track_script = f"<script>Threadline.track('product_viewed', {payload});</script>"
    document = (
        TEMPLATE.replace("{{title}}", html.escape(title)).replace("{{body}}", body).replace("{{track}}", track_script)
    )
    return web.Response(text=document, content_type="text/html")


def product_page(sku: str) -> web.Response:
    name, price, image, description = PRODUCTS[sku]
    others = "".join(
        f'<li><a href="/products/{other}">{html.escape(data[0])}</a> <span>{html.escape(data[1])}</span></li>'
        for other, data in PRODUCTS.items()
        if other != sku
    )
    body = (
        f'<article class="product"><img src="/media/{image}" alt="{html.escape(name)}" width="600" height="314">'
        f'<div><h1>{html.escape(name)}</h1><p class="price">{html.escape(price)}</p>'
        f"<p>{html.escape(description)}</p>"
        f'<button type="button" class="buy" onclick="Threadline.track(\'added_to_cart\', '
        f"{{sku: '{sku}'}}); this.textContent='Added ✓'\">Add to cart</button></div></article>"
        f'<h2>More shoes</h2><ul class="others">{others}</ul>'
    )
    return page(name, body, {"sku": sku, "name": name, "url": f"/products/{sku}", "image": f"/media/{image}"})


async def home(request: web.Request) -> web.Response:
    return product_page("TR2")


async def product(request: web.Request) -> web.Response:
    sku = request.match_info["sku"].upper()
    if sku not in PRODUCTS:
        raise web.HTTPNotFound(reason="no such product")  # not the path itself: it may hold a line break
    return product_page(sku)


async def info(request: web.Request) -> web.Response:
    title, text = PAGES[request.match_info["name"]]
    return page(title, f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>")


async def return_label(request: web.Request) -> web.Response:
    order = request.match_info["order"]
    return page(
        "Return label",
        f"<h1>Return label</h1><p>Order {html.escape(order)}: in a real shop, the printable label would be here.</p>",
    )


async def favicon(request: web.Request) -> web.Response:
    return web.Response(status=204)


def routes() -> list[web.RouteDef]:
    return [
        web.get("/", home),
        web.get("/favicon.ico", favicon),
        web.get("/products/{sku}", product),
        web.get("/{name:cart|shipping|sale}", info),
        web.get("/returns/{order}", return_label),
    ]
