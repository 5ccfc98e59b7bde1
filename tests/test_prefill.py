"""Several answers in one message, at the engine's seam: each question the flow reaches takes its own value."""

from __future__ import annotations

from collections.abc import Callable

from bots.flow.engine import Engine
from tests.test_digressions import FLOWS, SETTINGS, TEXTS
from tests.test_engine import Chat, texts

ORDER = """
      order:
        trigger: {payloads: [/order]}
        steps:
          - ask: size
            prompt: ask_size
          - ask: email
            prompt: ask_email
          - ask: count
            prompt: ask_count
          - say: done
"""
SLOTS = """
    slots:
      size: {type: number, min: 30, max: 50}
      email: {type: email}
      name: {type: text}
      count: {type: number, min: 1, max: 50}
"""
MORE_TEXTS = """
      ask_count: {en: "How many pairs?"}
      done: {en: "{count} pairs of {size} for {email}."}
"""


def chat(engine_for: Callable[..., Engine]) -> Chat:
    files = {"settings.yml": SETTINGS, "flows.yml": FLOWS + ORDER, "slots.yml": SLOTS, "texts.yml": TEXTS + MORE_TEXTS}
    return Chat(engine_for(files))


def test_one_answer_fills_every_question_it_holds_a_value_for(engine_for: Callable[..., Engine]) -> None:
    c = chat(engine_for)
    assert texts(c.say("/order")) == ["Which size?"]
    assert texts(c.say("42, mail anna@example.com, 2 pairs")) == ["2 pairs of 42 for anna@example.com."]


def test_a_value_one_question_took_is_not_the_next_ones(engine_for: Callable[..., Engine]) -> None:
    c = chat(engine_for)
    c.say("/order")
    assert texts(c.say("42 and anna@example.com")) == ["How many pairs?"]  # 42 is the size, not also the count
    assert texts(c.say("3")) == ["3 pairs of 42 for anna@example.com."]


def test_a_question_the_message_holds_nothing_for_is_asked_and_reading_stops(
    engine_for: Callable[..., Engine],
) -> None:
    c = chat(engine_for)
    c.say("/order")
    assert texts(c.say("42, and 2 pairs")) == ["Your email?"]
    assert texts(c.say("anna@example.com")) == ["How many pairs?"]  # "2 pairs" was in an earlier message
