"""The demo shop's conversations (issue 16, item 7) over the REST channel, in several of the bot's languages:
size advice for the shoe being viewed, delivery dates relative to today in the customer's words, and prices
written one way per language, in the chat and on the shop's pages."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer

from bots.runtime import open_runtime
from bots.server.app import create_app
from tests.conftest import DEMO_BOT, demo_config

NBSP = "\u00a0"


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient]:
    config = demo_config(tmp_path / "data", server={"public_url": "https://shop.example"})
    async with open_runtime(config) as runtime, TestClient(TestServer(create_app(runtime))) as client:
        yield client


async def post(client: TestClient, body: dict[str, Any]) -> list[dict[str, Any]]:
    response = await client.post("/webhooks/rest/webhook", json=body)
    assert response.status == 200, await response.text()
    return list(await response.json())


async def say(client: TestClient, sender: str, text: str, locale: str) -> list[dict[str, Any]]:
    return await post(client, {"sender": sender, "message": text, "metadata": {"locale": locale}})


async def view(client: TestClient, sender: str, sku: str, locale: str) -> list[dict[str, Any]]:
    """What the shop page records: a ``product_viewed`` site event."""
    event = {"name": "product_viewed", "data": {"sku": sku, "url": f"/products/{sku}"}}
    return await post(client, {"sender": sender, "event": event, "metadata": {"locale": locale}})


def texts(replies: list[dict[str, Any]]) -> str:
    return " | ".join(str(reply.get("text") or "") for reply in replies)


# ------------------------------------------------------------------------------------------ size advice

SIZE_ADVICE = [  # (locale, shoe viewed twice, the advice for it in size 42)
    ("en-GB", "CG1", "Our shoes fit true to size, so take the City Glide in 42."),
    ("de-DE", "MP3", "nimm den Marathon Pro also in 42."),
    ("zh-CN", "CG1", "City Glide选42码就好"),
    ("es-ES", "MP3", "pide las Marathon Pro en la 42."),
    ("pl-PL", "CG1", "weź City Glide w rozmiarze 42."),
]


@pytest.mark.parametrize(("locale", "sku", "advice"), SIZE_ADVICE)
async def test_size_advice_names_the_shoe_viewed_twice(client: TestClient, locale: str, sku: str, advice: str) -> None:
    sender = f"size-{locale}"
    assert await view(client, sender, sku, locale) == []  # a first look: nothing said
    offer = await view(client, sender, sku, locale)  # a second look: help offered, with a size-help button
    size_button = next(b for reply in offer for b in reply.get("buttons", []) if b.get("payload") == "/size_help")
    await say(client, sender, size_button["payload"], locale)
    replies = await say(client, sender, "42", locale)
    assert advice in replies[0]["text"], texts(replies)
    assert "Trail Runner 2" not in texts(replies)


@pytest.mark.parametrize(
    ("locale", "advice"),
    [
        ("en-GB", "Our shoes fit true to size, so take 42. Here is our size chart:"),
        ("de-DE", "Unsere Schuhe fallen normal aus, nimm also 42. Hier ist unsere Größentabelle:"),
        ("zh-CN", "我们的鞋子尺码标准，选42码就好。这是我们的尺码表："),
        ("fr-FR", "Nos chaussures taillent normalement, prenez donc du 42. Voici notre guide des tailles :"),
    ],
)
async def test_size_advice_without_a_shoe_in_view_names_none(client: TestClient, locale: str, advice: str) -> None:
    sender = f"no-view-{locale}"
    await say(client, sender, "/size_help", locale)
    [first, *_] = await say(client, sender, "42", locale)
    assert first["text"] == advice


async def test_size_advice_for_a_kids_shoe_in_an_adult_size_gives_the_shoes_sizes(client: TestClient) -> None:
    """The Kids Sprint in 43 ("do you have them in 43?"): the sizes it comes in, not "take 43" of a shoe without."""
    await view(client, "kid", "KS1", "en-GB")
    await say(client, "kid", "/size_help", "en-GB")
    [first, *_] = await say(client, "kid", "43", "en-GB")
    assert first["text"] == "The Kids Sprint comes in EU sizes 28 to 38."
    await say(client, "kid", "/size_help", "en-GB")
    [first, *_] = await say(client, "kid", "33", "en-GB")
    assert first["text"].startswith("Our shoes fit true to size, so take the Kids Sprint in 33.")


# ------------------------------------------------------------------------------------------ delivery dates

MONTHS = {
    "de": [
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ],
    "es": [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ],
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
}
WRITTEN = {  # a date as each language writes it in a sentence (written out here by hand, not by the code under test)
    "en": lambda d: f"{MONTHS['en'][d.month - 1]} {d.day}, {d.year}",
    "de": lambda d: f"{d.day}. {MONTHS['de'][d.month - 1]} {d.year}",
    "es": lambda d: f"{d.day} de {MONTHS['es'][d.month - 1]} de {d.year}",
    "zh": lambda d: f"{d.year}年{d.month}月{d.day}日",
}


@pytest.mark.parametrize("language", ["en", "de", "es", "zh"])
@pytest.mark.parametrize(("order", "days"), [("ST-123456", 2), ("ST-234567", -3), ("ST-345678", 4)])
async def test_delivery_dates_are_relative_to_today_in_the_customers_words(
    client: TestClient, language: str, order: str, days: int
) -> None:
    sender = f"eta-{language}-{order}"
    before = date.today()
    await say(client, sender, "/order_status", language)
    replies = await say(client, sender, order, language)
    after = date.today()  # the turn may cross midnight: either day is right
    expected = {WRITTEN[language](day + timedelta(days=days)) for day in (before, after)}
    assert any(written in texts(replies) for written in expected), (expected, texts(replies))
    assert re.search(r"\d{4}-\d{2}-\d{2}", texts(replies)) is None  # no ISO date left


# ------------------------------------------------------------------------------------------ prices

PRICES = {  # the Trail Runner 2's price, written the one way each language writes euros
    "en": "€129",
    "de": f"129{NBSP}€",
    "zh": "€129",
    "pl": f"129{NBSP}€",
    "nl": f"€{NBSP}129",
    "pt": f"129{NBSP}€",  # European Portuguese (settings.locales), not Brazilian "€ 129"
}


@pytest.mark.parametrize(("language", "written"), PRICES.items())
async def test_a_price_is_written_one_way_per_language(client: TestClient, language: str, written: str) -> None:
    sender = f"price-{language}"
    _intro, card, *_others = await say(client, sender, "/product_search", language)
    # on REST a carousel's cards come as Rasa's REST channel sends them: "title : subtitle" with their buttons
    assert card["text"].startswith(f"Trail Runner 2 : {written} · ")  # the catalogue's card text
    [ask] = await say(client, sender, '/buy{"sku": "TR2"}', language)
    assert "Trail Runner 2" in ask["text"] and written in ask["text"]  # the price the product lookup found


def test_every_amount_in_the_texts_is_written_as_the_language_writes_euros() -> None:
    """Amounts typed into texts/<language>.yml follow the same one way as the prices the actions format."""
    amount = re.compile(r"(?:€|EUR)[ \u00a0]?\d+(?:[.,]\d{2})?|\d+(?:[.,]\d{2})?[ \u00a0]?(?:€|EUR|欧元)")
    way = {  # how each language writes 50 and 4.95 euros (CLDR's patterns)
        "en": ("€50", "€4.95"),
        "zh": ("€50", "€4.95"),
        "de": ("50 €", "4,95 €"),
        "es": ("50 €", "4,95 €"),
        "fr": ("50 €", "4,95 €"),
        "it": ("50 €", "4,95 €"),
        "pl": ("50 €", "4,95 €"),
        "pt": ("50 €", "4,95 €"),
        "vi": ("50 €", "4,95 €"),
        "nl": ("€ 50", "€ 4,95"),
        "ro": ("50 EUR", "4,95 EUR"),
    }
    for path in sorted((DEMO_BOT / "texts").glob("*.yml")):
        language = path.stem
        responses = yaml.safe_load(path.read_text(encoding="utf-8"))
        found = [m for text in map(str, _leaves(responses)) for m in amount.findall(text)]
        assert found, language
        whole, cents = (written.replace(" ", NBSP) for written in way[language])
        for written in found:
            number = re.search(r"\d+(?:[.,]\d{2})?", written)
            assert number is not None
            digits = number.group()
            if re.search(r"[.,]\d{2}$", digits):  # cents, with the language's decimal separator
                separator = "," if "4,95" in cents else "."
                expected = cents.replace(f"4{separator}95", re.sub(r"[.,]", separator, digits))
            else:
                expected = whole.replace("50", digits)
            assert written == expected, (language, written, expected)


def _leaves(node: object) -> list[object]:
    if isinstance(node, dict):
        return [leaf for value in node.values() for leaf in _leaves(value)]
    if isinstance(node, list):
        return [leaf for value in node for leaf in _leaves(value)]
    return [node]


@pytest.mark.parametrize(
    ("accept", "written", "other"),
    [
        ("en-GB,en;q=0.8", "€129", "€99"),
        ("de-DE,de;q=0.9", f"129{NBSP}€", f"99{NBSP}€"),
        ("zh-CN", "€129", "€99"),
        ("pt-PT,pt;q=0.9", f"129{NBSP}€", f"99{NBSP}€"),  # the bot's locale for Portuguese, as in the chat
    ],
)
async def test_the_shop_page_writes_prices_in_the_visitors_language(
    client: TestClient, accept: str, written: str, other: str
) -> None:
    response = await client.get("/products/TR2", headers={"Accept-Language": accept})
    page = await response.text()
    assert f'<p class="price">{written}</p>' in page
    assert f"<span>{other}</span>" in page  # the City Glide in the list of other shoes


@pytest.mark.parametrize(
    ("locale", "question", "advice"),
    [
        ("en-GB", "what size should i take in the marathon pro?", "take the Marathon Pro in 42."),
        ("de-DE", "welche Größe soll ich beim marathon pro nehmen?", "nimm den Marathon Pro also in 42."),
    ],
)
async def test_size_advice_names_the_shoe_named_in_the_question(
    client: TestClient, locale: str, question: str, advice: str
) -> None:
    sender = f"named-{locale}"
    await view(client, sender, "CG1", locale)  # viewed another shoe once: the one named wins
    await say(client, sender, question, locale)
    [first, *_] = await say(client, sender, "42", locale)
    assert advice in first["text"]
