"""The Stride demo shop: product pages with the widget on them, so `make run` shows the whole product.

Only the demo bot shows it (its ``settings.demo_shop``); any other bot gets the neutral page of ``trypage.py``.

Each product page records a ``product_viewed`` site event through the
widget's ``Threadline.track``; the demo bot offers help when the same shoe is
viewed a second time. The other pages are the targets of the demo flows'
links (cart, shipping, sale, return labels).
"""

from __future__ import annotations

import html

from aiohttp import web
from markupsafe import Markup

from bots.locale_format import money_text
from connectors.base import BotPresentation
from connectors.web.pages import favicon, render, widget_context

PRODUCTS = {
    "TR2": (
        "Trail Runner 2",
        129,
        "trail-runner-2.png",
        "A grippy, waterproof trail shoe with 5 mm lugs and a rock plate, for muddy climbs and technical descents.",
    ),
    "CG1": (
        "City Glide",
        99,
        "city-glide.png",
        "A light everyday running shoe with a soft foam midsole for tarmac, park loops and commutes.",
    ),
    "MP3": (
        "Marathon Pro",
        159,
        "marathon-pro.png",
        "Our race-day shoe: a carbon plate, a rockered sole and 198 g in size 42.",
    ),
    "KS1": ("Kids Sprint", 59, "kids-sprint.png", "Sturdy, easy-to-close running shoes for kids, sizes 28 to 38."),
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


def price(euros: int, locale: str) -> str:
    """A whole-euro price the one way the visitor's language writes it (``bots.locale_format``, as the bot's
    replies and actions write theirs, so the page and the chat agree): "€129", "129\u00a0€"."""
    return money_text(euros, "EUR", locale)


class Shop:
    """The shop's pages, with the widget in the demo bot's own look (its settings in bot.yml)."""

    def __init__(self, bot: BotPresentation) -> None:
        self.bot = bot

    def page(self, request: web.Request, title: str, body: str, track: dict[str, str] | None = None) -> web.Response:
        """A shop page; ``body`` is markup whose every shop text was escaped when it was built."""
        return render("demo.html", title=title, body=Markup(body), track=track, **widget_context(request, self.bot))

    def product_page(self, request: web.Request, sku: str) -> web.Response:
        name, euros, image, description = PRODUCTS[sku]
        language = self.bot.locale_for(widget_context(request, self.bot)["language"])
        others = "".join(
            f'<li><a href="/products/{other}">{html.escape(data[0])}</a> '
            f"<span>{html.escape(price(data[1], language))}</span></li>"
            for other, data in PRODUCTS.items()
            if other != sku
        )
        body = (
            f'<article class="product"><img src="/media/{image}" alt="{html.escape(name)}" width="600" height="314">'
            f'<div><h1>{html.escape(name)}</h1><p class="price">{html.escape(price(euros, language))}</p>'
            f"<p>{html.escape(description)}</p>"
            f'<button type="button" class="buy" onclick="Threadline.track(\'added_to_cart\', '
            f"{{sku: '{sku}'}}); this.textContent='Added ✓'\">Add to cart</button></div></article>"
            f'<h2>More shoes</h2><ul class="others">{others}</ul>'
        )
        track = {"sku": sku, "name": name, "url": f"/products/{sku}", "image": f"/media/{image}"}
        return self.page(request, name, body, track)

    async def home(self, request: web.Request) -> web.Response:
        return self.product_page(request, "TR2")

    async def product(self, request: web.Request) -> web.Response:
        sku = request.match_info["sku"].upper()
        if sku not in PRODUCTS:
            raise web.HTTPNotFound(reason="no such product")  # not the path itself: it may hold a line break
        return self.product_page(request, sku)

    async def info(self, request: web.Request) -> web.Response:
        title, text = PAGES[request.match_info["name"]]
        return self.page(request, title, f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>")

    async def return_label(self, request: web.Request) -> web.Response:
        order = html.escape(request.match_info["order"])
        body = f"<h1>Return label</h1><p>Order {order}: in a real shop, the printable label would be here.</p>"
        return self.page(request, "Return label", body)


def routes(bot: BotPresentation) -> list[web.RouteDef]:
    shop = Shop(bot)
    return [
        web.get("/", shop.home),
        web.get("/favicon.ico", favicon),
        web.get("/products/{sku}", shop.product),
        web.get("/{name:cart|shipping|sale}", shop.info),
        web.get("/returns/{order}", shop.return_label),
    ]
