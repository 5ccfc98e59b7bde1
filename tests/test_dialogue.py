"""Open questions handled as a careful agent would: asides, cancels, and answers told apart from other requests.

Through the REST channel on the demo bot, with its real NLU, in several of its languages.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bots.flow.model import Bot
from bots.runtime import open_runtime
from bots.server.app import create_app
from tests.conftest import demo_config


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient]:
    async with (
        open_runtime(demo_config(tmp_path / "data")) as runtime,
        TestClient(TestServer(create_app(runtime))) as client,
    ):
        yield client


async def send(client: TestClient, sender: str, message: str) -> list[str]:
    response = await client.post("/webhooks/rest/webhook", json={"sender": sender, "message": message})
    assert response.status == 200, await response.text()
    return [item.get("text", "") for item in await response.json()]


def text(bot: Bot, key: str, language: str) -> str:
    return bot.responses[key][language][0]


def resumed(bot: Bot, language: str) -> str:
    lead = text(bot, "resume_question", language)
    return lead + ("" if ord(lead[-1]) >= 0x3000 else " ") + text(bot, "ask_order_number_return", language)


# language, "I want to return my shoes", then three asides (shipping, "are you a bot?", thanks)
ASIDES = [
    ("en", "I want to return my shoes", ["shipping costs?", "are you real", "thank you"]),
    ("de", "Ich möchte meine Schuhe zurückgeben", ["versandkosten?", "bist du echt", "vielen dank"]),
    ("es", "quiero devolver mis zapatillas", ["gastos de envío", "¿eres un robot?", "muchas gracias"]),
    ("pl", "jak zrobić zwrot?", ["ile trwa wysyłka?", "jestes botem", "dziękuję"]),
    ("vi", "trả lại giày được không", ["giao hàng mất bao lâu", "bạn là người thật hả", "cảm ơn bạn"]),
    ("zh", "我想退货", ["运费多少", "你是真人吗", "谢谢你"]),
]


@pytest.mark.parametrize(("language", "start", "asides"), ASIDES)
async def test_asides_are_answered_and_the_question_resumes_twice_then_a_way_on_is_offered(
    client: TestClient, demo_bot: Bot, language: str, start: str, asides: list[str]
) -> None:
    opened = await send(client, language, start)
    assert opened[-1] == text(demo_bot, "ask_order_number_return", language)
    for aside in asides[:2]:
        replies = await send(client, language, aside)
        assert len(replies) == 2 and replies[-1] == resumed(demo_bot, language), replies
    replies = await send(client, language, asides[2])
    assert replies[-1] == text(demo_bot, "question_dropped", language)  # the budget is spent: no third re-ask
    replies = await send(client, language, asides[0])
    assert len(replies) == 1 and text(demo_bot, "ask_order_number_return", language) not in replies[0]


CANCELS = [
    ("de", "Ich möchte meine Schuhe zurückgeben", "egal, vergiss es"),
    ("en", "I want to return my shoes", "Never mind."),
    ("es", "quiero devolver mis zapatillas", "olvídalo"),
    ("fr", "comment faire un retour ?", "laisse tomber !"),
    ("pl", "jak zrobić zwrot?", "nieważne"),
    ("zh", "我想退货", "算了"),
    ("vi", "trả lại giày được không", "thôi, bỏ qua"),
]


@pytest.mark.parametrize(("language", "start", "cancel"), CANCELS)
async def test_cancel_phrases_close_the_open_question_and_say_so(
    client: TestClient, demo_bot: Bot, language: str, start: str, cancel: str
) -> None:
    await send(client, language, start)
    assert await send(client, language, cancel) == [text(demo_bot, "cancelled", language)]
    replies = await send(client, language, "ST-234567")  # no longer the answer to the return question
    assert text(demo_bot, "ask_return_reason", language) not in replies


QUESTIONS = [
    ("en", "I want to return my shoes", "where is my order ST-123456?"),
    ("de", "Ich möchte meine Schuhe zurückgeben", "wo ist meine Bestellung ST-123456?"),
    ("es", "quiero devolver mis zapatillas", "¿dónde está mi pedido ST-123456?"),
    ("zh", "我想退货", "我的鞋什么时候到？ST-123456"),
]


@pytest.mark.parametrize(("language", "start", "question"), QUESTIONS)
async def test_a_question_of_its_own_with_a_value_in_it_is_not_taken_as_the_answer(
    client: TestClient, demo_bot: Bot, language: str, start: str, question: str
) -> None:
    await send(client, language, start)
    status, again = await send(client, language, question)
    assert "ST-123456" in status  # the order's status, not "it hasn't been delivered, so it can't be returned"
    assert not status.startswith(text(demo_bot, "return_not_delivered_yet", language)[:12])
    assert again == resumed(demo_bot, language)


ANSWERS = [
    ("en", "I want to return my shoes", "it's ST-234567"),
    ("de", "Ich möchte meine Schuhe zurückgeben", "das ist ST-234567"),
    ("es", "quiero devolver mis zapatillas", "es el ST-234567"),
    ("zh", "我想退货", "订单号是ST-234567"),
]


@pytest.mark.parametrize(("language", "start", "reply"), ANSWERS)
async def test_a_message_that_is_mostly_the_answer_answers_the_question(
    client: TestClient, demo_bot: Bot, language: str, start: str, reply: str
) -> None:
    await send(client, language, start)
    replies: list[Any] = await send(client, language, reply)
    assert replies[-1] == text(demo_bot, "ask_return_reason", language)  # ST-234567 was delivered: why return it?


CORRECTIONS = [
    ("en", "I want to return my shoes", "actually ST-123456"),
    ("de", "Ich möchte meine Schuhe zurückgeben", "nein, ST-123456"),
    ("es", "quiero devolver mis zapatillas", "perdón, ST-123456"),
    ("zh", "我想退货", "不对，ST-123456"),
    ("pl", "jak zrobić zwrot?", "właściwie ST-123456"),
]


@pytest.mark.parametrize(("language", "start", "correction"), CORRECTIONS)
async def test_a_correction_changes_the_earlier_answer_and_reruns_what_depends_on_it(
    client: TestClient, demo_bot: Bot, language: str, start: str, correction: str
) -> None:
    await send(client, language, start)
    assert (await send(client, language, "ST-234567"))[-1] == text(demo_bot, "ask_return_reason", language)
    replies = await send(client, language, correction)  # the order looked up again: not delivered yet
    assert len(replies) == 1 and "ST-123456" in replies[0], replies
    assert replies[0] != text(demo_bot, "ask_return_reason", language)


@pytest.mark.parametrize(("language", "start", "question"), QUESTIONS)
async def test_an_aside_about_another_order_leaves_the_return_with_its_own_order(
    client: TestClient, demo_bot: Bot, language: str, start: str, question: str
) -> None:
    await send(client, language, start)
    await send(client, language, "ST-234567")
    status, again = await send(client, language, question)
    assert "ST-123456" in status and "ST-234567" not in status
    lead = text(demo_bot, "resume_question", language)
    assert again == lead + ("" if ord(lead[-1]) >= 0x3000 else " ") + text(demo_bot, "ask_return_reason", language)
    replies = await send(client, language, "defective")  # the choice's value, as its quick reply sends it
    assert "ST-234567" in replies[-1] and "ST-123456" not in replies[-1]
