"""Built-in entities filling a flow's slots end to end, over the REST channel: a date, an amount (kept under a
Duckling-style hyphenated name) and an e-mail address written as people write it, in English and German."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bots.config import Config
from bots.runtime import open_runtime
from bots.server.app import create_app
from tests.conftest import write_bot

BOT = {
    "nlu.yml": """
        language: en
        nlu:
          deliver: [deliver it, can you deliver it, deliver my order, delivery on a day, bring it, deliver please]
          pay: [i want to pay, pay, payment, pay the bill, let me pay, pay now]
          contact: [my mail is, my email is, contact me, email me, write to me, my address is]
    """,
    "nlu_de.yml": """
        language: de
        nlu:
          deliver: [liefern, könnt ihr liefern, liefert es, lieferung an einem tag, bringt es, bitte liefern]
          pay: [ich will zahlen, zahlen, zahlung, die rechnung zahlen, lass mich zahlen, jetzt zahlen]
          contact: [meine mail ist, meine email ist, kontaktiert mich, schreibt mir, meine adresse ist, mail an mich]
    """,
    "slots.yml": """
        slots:
          date: {type: any}
          time: {type: any}
          money: {type: any}
          amount-of-money: {type: any}
          email: {type: email}
    """,
    "texts.yml": """
        responses:
          when: {en: "Which day?", de: "An welchem Tag?"}
          booked: {en: "Delivery on {date}.", de: "Lieferung am {date}."}
          booked_time: {en: "Delivery at {time}.", de: "Lieferung um {time}."}
          how_much: {en: "How much?", de: "Wie viel?"}
          paying:
            en: "Paying {amount-of-money.amount} {amount-of-money.currency}."
            de: "Zahlung {amount-of-money.amount} {amount-of-money.currency}."
          big: {en: "That is a big payment.", de: "Das ist eine große Zahlung."}
          your_mail: {en: "Your email?", de: "Deine E-Mail?"}
          got_mail: {en: "We will write to {email}.", de: "Wir schreiben an {email}."}
          fallback: {en: "Sorry?", de: "Wie bitte?"}
    """,
    "settings.yml": """
        settings:
          fallback_flow: fallback
          nlu_threshold: 0.3
    """,
    "flows.yml": """
        flows:
          deliver:
            trigger: {intents: [deliver]}
            steps:
              - if: "time"
                then:
                  - say: booked_time
                else:
                  - ask: date
                    prompt: when
                  - say: booked
          pay:
            trigger: {intents: [pay]}
            steps:
              - ask: money
                prompt: how_much
              - set: {amount-of-money: "=money"}
              - say: paying
              - if: "amount-of-money.amount >= 100"
                then:
                  - say: big
          contact:
            trigger: {intents: [contact]}
            steps:
              - ask: email
                prompt: your_mail
              - say: got_mail
          fallback:
            steps:
              - say: fallback
    """,
}


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient]:
    bot = write_bot(tmp_path / "bot", BOT)
    config = Config.model_validate({"bot": bot, "data_dir": tmp_path / "data", "languages": ["en", "de"]})
    async with open_runtime(config) as runtime, TestClient(TestServer(create_app(runtime))) as client:
        yield client


async def said(client: TestClient, sender: str, message: str) -> list[str]:
    response = await client.post("/webhooks/rest/webhook", json={"sender": sender, "message": message})
    assert response.status == 200, await response.text()
    return [item["text"] for item in await response.json() if "text" in item]


async def test_a_relative_date_fills_the_date(client: TestClient) -> None:
    before = date.today()
    replies = await said(client, "d-en", "can you deliver it tomorrow?")
    days = {(before + timedelta(days=1)).isoformat(), (date.today() + timedelta(days=1)).isoformat()}
    assert replies in [[f"Delivery on {day}."] for day in days]


async def test_a_day_and_an_hour_fill_the_time_in_german(client: TestClient) -> None:
    before = date.today()
    replies = await said(client, "d-de", "könnt ihr morgen um 10 liefern?")
    days = {(before + timedelta(days=1)).isoformat(), (date.today() + timedelta(days=1)).isoformat()}
    assert replies in [[f"Lieferung um {day}T10:00."] for day in days]


@pytest.mark.parametrize(
    "message, replies",
    [
        ("i want to pay 150 €", ["Paying 150 EUR.", "That is a big payment."]),
        ("pay $20 now", ["Paying 20 USD."]),
        ("ich will 20 euros zahlen", ["Zahlung 20 EUR."]),
    ],
)
async def test_an_amount_with_its_currency_fills_a_hyphenated_slot(
    client: TestClient, message: str, replies: list[str]
) -> None:
    assert await said(client, "p", message) == replies


@pytest.mark.parametrize(
    "message, reply",
    [
        ("my mail is anna(at)example.com", "We will write to anna@example.com."),
        ("my email is anna at example dot com", "We will write to anna@example.com."),
        ("meine mail ist anna (at) beispiel (punkt) de", "Wir schreiben an anna@beispiel.de."),
    ],
)
async def test_a_written_email_fills_the_email_and_goes_to_no_other_flow(
    client: TestClient, message: str, reply: str
) -> None:
    assert await said(client, "m", message) == [reply]
