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


RETURN = """
      give_back:
        trigger: {payloads: [/return]}
        steps:
          - ask: this_one
            prompt: ask_this_one
            max_attempts: 1
            on_failure: []
          - ask: reason
            prompt: ask_reason
            choices:
              - {title: too_small, value: small}
              - {title: too_big, value: big}
          - ask: sure
            prompt: ask_sure
            choices:
              - {title: yes_go, value: true}
              - {title: no_stop, value: false}
          - say: returned
"""
RETURN_SLOTS = """
    slots:
      size: {type: number, min: 30, max: 50}
      email: {type: email}
      this_one: {type: bool}
      reason: {type: choice, values: [small, big]}
      sure: {type: bool}
"""
RETURN_TEXTS = """
      ask_this_one: {en: "Return this pair?"}
      ask_reason: {en: "Why?"}
      ask_sure: {en: "Shall I go ahead?"}
      too_small: {en: "Too small"}
      too_big: {en: "Too big"}
      yes_go: {en: "Yes, go ahead"}
      no_stop: {en: "No, stop"}
      returned: {en: "Returned ({this_one}, {reason}, {sure})."}
"""


def return_chat(engine_for: Callable[..., Engine]) -> Chat:
    files = {
        "settings.yml": SETTINGS,
        "flows.yml": FLOWS + RETURN,
        "slots.yml": RETURN_SLOTS,
        "texts.yml": TEXTS + RETURN_TEXTS,
    }
    return Chat(engine_for(files))


def test_a_later_questions_choice_stays_with_the_flow_and_is_kept(engine_for: Callable[..., Engine]) -> None:
    """ "they're too small" to "return this pair?": the reason the flow asks next, not a size question; it says no
    yes ("wrong order, too small"), so the open question takes its failure path and the reason is not asked."""
    c = return_chat(engine_for)
    assert texts(c.say("/return")) == ["Return this pair?"]
    assert texts(c.say("they're too small", intent="size_help", confidence=0.95)) == ["Shall I go ahead?"]
    assert texts(c.say("Yes, go ahead")) == ["Returned (, small, yes)."]
    c = return_chat(engine_for)
    c.say("/return")
    assert texts(c.say("wrong order, too big", intent="size_help", confidence=0.95)) == ["Shall I go ahead?"]
    assert texts(c.say("No, stop")) == ["Returned (, big, no)."]


def test_a_yes_with_a_later_choice_answers_and_keeps_the_choice(engine_for: Callable[..., Engine]) -> None:
    c = return_chat(engine_for)
    c.say("/return")
    assert texts(c.say("yes", intent="affirm", confidence=0.95)) == ["Why?"]
    c = return_chat(engine_for)
    c.say("/return")
    assert texts(c.say("yes, too big", intent="affirm", confidence=0.95)) == ["Shall I go ahead?"]
    assert texts(c.say("Yes, go ahead")) == ["Returned (yes, big, yes)."]


def test_a_later_yes_or_no_is_never_answered_ahead(engine_for: Callable[..., Engine]) -> None:
    """ "yes, go ahead" said early must not confirm a later confirmation question unasked."""
    c = return_chat(engine_for)
    c.say("/return")
    assert texts(c.say("Yes, go ahead")) == ["Why?"]  # no yes to "return this pair?": its failure path
    assert texts(c.say("too small")) == ["Shall I go ahead?"]  # asked, not taken from the early words


def test_a_question_or_a_long_message_naming_a_later_choice_is_another_request(
    engine_for: Callable[..., Engine],
) -> None:
    c = return_chat(engine_for)
    c.say("/return")
    assert texts(c.say("are they too small?", intent="size_help", confidence=0.95)) == ["Which size?"]
    c = return_chat(engine_for)
    c.say("/return")
    long = "i think they might be too small for my son so which size should he take"
    assert texts(c.say(long, intent="size_help", confidence=0.95)) == ["Which size?"]
