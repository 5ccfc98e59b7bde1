"""Customers who type without accents or send one greeting are understood and answered in their language:
the demo bot over the REST channel, with no browser language or profile locale to go by."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bots.runtime import open_runtime
from bots.server.app import create_app
from tests.conftest import demo_config


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient]:
    config = demo_config(tmp_path / "data")
    async with open_runtime(config) as runtime, TestClient(TestServer(create_app(runtime))) as client:
        yield client


async def said(client: TestClient, sender: str, message: str) -> str:
    response = await client.post("/webhooks/rest/webhook", json={"sender": sender, "message": message})
    assert response.status == 200, await response.text()
    replies: list[dict[str, Any]] = await response.json()
    return " | ".join(r.get("text", "") for r in replies)


@pytest.mark.parametrize(
    "text, expected",
    [
        # returns: the policy, then the question for the order, in the customer's language
        ("e muon doi tra giay bi chat qua", "Bạn muốn trả đơn hàng nào?"),
        ("chce zwrocic buty, sa za male", "Które zamówienie chcesz zwrócić?"),
        ("vreau sa returnez pantofii", "Ce comandă vrei să returnezi?"),
        ("quero devolver os tenis", "Podes devolver sapatilhas sem uso"),
        ("je voudrais etre rembourse", "Vous pouvez retourner gratuitement"),
        ("ich mochte die schuhe zuruckgeben", "Ungetragene Schuhe kannst du"),
        ("quiero devolver las zapatillas, me quedan pequenas", "Puedes devolver gratis las zapatillas"),
        # where is my order
        ("don hang cua minh den dau roi", "Mã đơn hàng của bạn là gì?"),
        ("gdzie jest moja paczka?", "Jaki jest numer zamówienia?"),
        ("unde e coletul meu?", "Care e numărul comenzii?"),
        ("onde esta a minha encomenda?", "Qual é o número da tua encomenda?"),
        ("ou en est ma commande svp", "Quel est votre numéro de commande ?"),
        ("donde esta mi pedido", "¿Cuál es tu número de pedido?"),
    ],
)
async def test_a_message_without_accents_reaches_its_intent_in_its_language(
    client: TestClient, text: str, expected: str
) -> None:
    reply = await said(client, f"unaccented-{text}", text)
    assert expected in reply, reply


@pytest.mark.parametrize(
    "text, greetings",
    [
        ("moin 👋", ["Hallo! Wie kann ich dir heute helfen?"]),
        ("buonasera 👋", ["Ciao! Come posso aiutarti oggi?"]),
        ("salve!", ["Ciao! Come posso aiutarti oggi?", "Olá! Em que posso ajudar-te hoje?"]),  # not Romanian
        ("hoi", ["Hoi! Waarmee kan ik je vandaag helpen?"]),
        ("czesc", ["Cześć! W czym mogę Ci dziś pomóc?"]),
        ("buna", ["Salut! Cu ce te pot ajuta azi?"]),
        ("xin chao", ["Chào bạn! Hôm nay mình có thể giúp gì cho bạn?"]),
        ("hola", ["¡Hola! ¿En qué puedo ayudarte hoy?"]),
    ],
)
async def test_a_first_greeting_is_answered_in_its_language(
    client: TestClient, text: str, greetings: list[str]
) -> None:
    reply = await said(client, f"greeting-{text}", text)
    assert any(greeting in reply for greeting in greetings), reply


async def test_entities_in_an_unaccented_message_fill_their_slots(client: TestClient) -> None:
    """The shoe and the size of "shop ơi giày trail runner còn size 42 không", typed without accents: the
    size advice names both, in Vietnamese, without asking for either."""
    reply = await said(client, "vi-size", "shop oi giay trail runner con size 42 khong")
    assert "Giày của Stride đúng size chuẩn, nên bạn cứ lấy Trail Runner 2 size 42" in reply, reply
