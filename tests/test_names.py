"""Slot and entity names with hyphens and dots (``amount-of-money``, ``order.id``), as Rasa bots and Duckling
name them: filled from entities, shown in texts, read in conditions, and checked by `threadline validate`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from bots.flow.engine import Engine
from bots.flow.loader import LoadResult
from bots.types import Entity, Inbound, NLUResult, Text
from tests.conftest import BASE_FILES, write_bot
from tests.test_engine import WHO, Chat, nlu
from tests.test_validate_cli import errors_of

NAMED = {
    "pay_slots.yml": """
        slots:
          amount-of-money: {type: any}
          order.id: {type: text}
          total: {type: number}
          discount: {type: number}
    """,
    "pay_texts.yml": """
        responses:
          paying: {en: "Paying {amount-of-money.amount} {amount-of-money.currency} for {order.id}, {{literal}}."}
          big: {en: "That is a big one."}
          net: {en: "Net {total}."}
    """,
    "pay_nlu.yml": """
        language: en
        nlu:
          pay: [pay, i want to pay, pay now, payment, pay the bill]
    """,
    "pay.yml": """
        flows:
          pay:
            trigger: {intents: [pay]}
            steps:
              - say: paying
              - if: "amount-of-money.amount >= 100 and order.id == 'ST-1'"
                then:
                  - say: big
              - set: {total: "=total - discount"}
              - say: net
    """,
}


def chat_inbound(text: str) -> Inbound:
    return Inbound(WHO, "message", text=text)


def with_entities(result: NLUResult, *entities: Entity) -> NLUResult:
    return dataclasses.replace(result, entities=entities)


def test_hyphen_and_dot_names_fill_show_and_decide(engine_for: Callable[..., Engine]) -> None:
    chat = Chat(engine_for(NAMED))
    chat.state.slots.update({"order.id": "ST-1", "total": 120, "discount": 20})
    result = nlu("pay 150 euros", "pay")
    money = Entity("amount-of-money", {"amount": 150, "currency": "EUR"}, 4, 13)
    turn = chat.engine.handle(chat.state, chat_inbound("pay 150 euros"), with_entities(result, money), 1.0)
    texts = [m.text for m in chat.finish(turn) if isinstance(m, Text)]
    assert texts == ["Paying 150 EUR for ST-1, {literal}.", "That is a big one.", "Net 100."]
    assert chat.state.slots["amount-of-money"] == {"amount": 150, "currency": "EUR"}


def test_a_small_amount_takes_the_other_branch(engine_for: Callable[..., Engine]) -> None:
    chat = Chat(engine_for(NAMED))
    chat.state.slots.update({"order.id": "ST-1", "total": 5, "discount": 1})
    money = Entity("amount-of-money", {"amount": 20, "currency": "USD"})
    turn = chat.engine.handle(chat.state, chat_inbound("pay $20"), with_entities(nlu("pay $20", "pay"), money), 1.0)
    texts = [m.text for m in chat.finish(turn) if isinstance(m, Text)]
    assert texts == ["Paying 20 USD for ST-1, {literal}.", "Net 4."]


def test_validate_names_unknown_hyphen_and_dot_names_with_did_you_mean(tmp_path: Path) -> None:
    bot = write_bot(
        tmp_path / "bot",
        {
            **BASE_FILES,
            **NAMED,
            "typos.yml": """
        responses:
          typo: {en: "Paying {amount-of-mony}"}
        flows:
          typos:
            steps:
              - say: typo
              - if: "amount-of-monney > 3"
                then:
                  - say: {en: "{order.idd} and {ordr.id}"}
              - if: "total-discount > 3"
                then:
                  - say: big
    """,
            "bad_slot.yml": """
        slots:
          amount--money: {type: any}
    """,
        },
    )
    errors = errors_of(bot, tmp_path)
    assert any("bad_slot.yml:2:3: error BOT-E003: invalid slot name 'amount--money'" in line for line in errors), errors
    assert any(
        "typos.yml:7:13: error FLOW-E003: flow 'typos': unknown name 'amount-of-monney'" in line
        and "did you mean 'amount-of-money'" in line
        for line in errors
    ), errors
    assert any("unknown name 'order'" in line or "unknown name 'order.idd'" in line for line in errors), errors
    assert any("unknown name 'ordr'" in line and "did you mean 'order.id'" in line for line in errors), errors
    assert any(
        "unknown name 'total-discount'" in line and "to subtract, put spaces around -: total - discount" in line
        for line in errors
    ), errors
    assert any(
        "typos.yml:2:3: error BOT-E009: response 'typo' (en): unknown name {amount-of-mony}" in line
        and "did you mean 'amount-of-money'" in line
        for line in errors
    ), errors


def test_the_bot_with_such_names_loads_clean(make_bot: Callable[..., LoadResult]) -> None:
    assert make_bot(NAMED).errors == []
