"""Rasa's slot mappings on an ask: from_entity (role, group), from_intent, from_text, from_trigger_intent."""

from __future__ import annotations

from collections.abc import Callable

from bots.flow.engine import Engine
from bots.flow.loader import LoadResult
from bots.types import Entity
from tests.test_engine import Chat, texts
from tests.test_slot_filling import say

FLOWS = {
    "flows.yml": """
        flows:
          fallback:
            steps:
              - say: fallback
    """,
    "trip.yml": """
        slots:
          origin: {type: text}
          destination: {type: text}
          newsletter: {type: bool}
          note: {type: text}
          priority: {type: choice, values: [low, high]}
          go_on: {type: bool}
          kind: {type: text}
          seat: {type: text}
        flows:
          trip:
            trigger: {intents: [contact], payloads: [/trip]}
            steps:
              - ask: priority
                prompt: {en: "Priority?"}
                mappings:
                  - {type: from_trigger_intent, intent: contact, value: high}
                  - {type: from_text}
              - ask: destination
                prompt: {en: "Where to?"}
                mappings:
                  - {type: from_entity, entity: city, role: destination}
              - ask: newsletter
                prompt: {en: "Newsletter?"}
                mappings:
                  - {type: from_intent, intent: affirm, value: true}
                  - {type: from_intent, intent: deny, value: false}
              - ask: note
                prompt: {en: "Anything else?"}
                mappings:
                  - {type: from_text, not_intent: [goodbye]}
              - say: {en: "{priority} trip to {destination}, newsletter {newsletter}, note {note}."}
          seat:
            trigger: {payloads: [/seat]}
            steps:
              - ask: seat
                prompt: {en: "Window or aisle?"}
                mappings:
                  - {type: from_entity, entity: seat}
                choices:
                  - {title: {en: By the window}, value: window}
                  - {title: {en: On the aisle}, value: aisle}
              - say: {en: "Seat: {seat}."}
    """,
}


def test_mappings_fill_each_question_from_where_they_say(engine_for: Callable[..., Engine]) -> None:
    chat = Chat(engine_for(FLOWS))
    assert say(chat, "contact me", intent="contact") == ["Where to?"]  # from_trigger_intent: priority high
    assert say(chat, "from Berlin", Entity("city", "Berlin", 5, 11, role="origin")) == ["Where to?"]
    assert say(chat, "to Paris", Entity("city", "Paris", 3, 8, role="destination")) == ["Newsletter?"]
    assert say(chat, "sure thing", intent="affirm") == ["Anything else?"]
    assert say(chat, "bye", intent="goodbye")[-1] == "Anything else?"  # not_intent: not taken as the note
    assert say(chat, "window seat") == ["high trip to Paris, newsletter yes, note window seat."]


def test_without_the_trigger_intent_the_question_is_asked(engine_for: Callable[..., Engine]) -> None:
    chat = Chat(engine_for(FLOWS))
    assert texts(chat.say("/trip")) == ["Priority?"]
    assert texts(chat.say("urgent")) == ["Priority?"]  # from_text, then checked against the slot's values
    assert texts(chat.say("low")) == ["Where to?"]


def test_a_quick_reply_of_the_question_answers_it_whatever_its_mappings(engine_for: Callable[..., Engine]) -> None:
    """A Rasa button ``/inform{"seat": "window"}`` is imported as a choice: pressing it sends the value, which no
    from_entity mapping reads, yet it answered the question in Rasa."""
    chat = Chat(engine_for(FLOWS))
    assert texts(chat.say("/seat")) == ["Window or aisle?"]
    assert say(chat, "somewhere", intent="inform") == ["Window or aisle?"]  # not a choice: the mappings decide
    assert say(chat, "window", intent="trip") == ["Seat: window."]  # the quick reply's value, whatever the intent
    typed = Chat(engine_for(FLOWS))
    assert texts(typed.say("/seat")) == ["Window or aisle?"]
    assert say(typed, "on the aisle") == ["Seat: aisle."]  # or its title, typed


def test_the_trigger_intent_fills_a_question_after_one_asked_first(engine_for: Callable[..., Engine]) -> None:
    """As Rasa fills a from_trigger_intent slot as the form starts, whichever question the form asks first."""
    flows = {
        **FLOWS,
        "search.yml": """
            flows:
              search:
                trigger: {intents: [spent, earned]}
                steps:
                  - ask: go_on
                    prompt: {en: "Go on?"}
                    mappings: [{type: from_intent, intent: affirm, value: true}]
                  - ask: kind
                    prompt: {en: "Spending or earnings?"}
                    mappings:
                      - {type: from_trigger_intent, intent: spent, value: spend}
                      - {type: from_trigger_intent, intent: earned, value: deposit}
                  - say: {en: "Searching {kind}."}
        """,
        "nlu_search.yml": """
            language: en
            nlu:
              spent: [what did i spend, my spending]
              earned: [what came in, my earnings]
        """,
    }
    chat = Chat(engine_for(flows))
    assert say(chat, "what did i spend", intent="spent") == ["Go on?"]
    assert say(chat, "sure", intent="earned") == ["Go on?"]  # another intent later is no trigger: not an answer
    assert say(chat, "yes", intent="affirm") == ["Searching spend."]
    fresh = Chat(engine_for(flows))
    assert say(fresh, "what came in", intent="earned") == ["Go on?"]
    assert say(fresh, "yes", intent="affirm") == ["Searching deposit."]


def test_an_incomplete_mapping_is_a_located_problem(make_bot: Callable[..., LoadResult]) -> None:
    broken = FLOWS["trip.yml"].replace("{type: from_intent, intent: deny, value: false}", "{type: from_intent}")
    result = make_bot({**FLOWS, "trip.yml": broken})
    assert result.bot is None
    [problem] = [p for p in result.problems if "from_intent mapping needs intent and value" in p.message]
    assert problem.mark is not None and problem.mark.file.endswith("trip.yml")
