"""Slot filling like a careful form: entities and payload values before free text, each checked, none lost."""

from __future__ import annotations

from collections.abc import Callable

from bots.flow.effects import SetSlot
from bots.flow.engine import ActionOutcome, Engine
from bots.types import Entity, Inbound, NLUResult
from tests.test_engine import WHO, Chat, texts

FILES = {
    "ticket.yml": """
        slots:
          priority: {type: text}
          topic: {type: text}
        flows:
          ticket:
            trigger: {payloads: [/ticket]}
            form: ticket
            steps:
              - ask: priority
                prompt: {en: "How urgent is it?"}
                invalid: {en: "Please pick low, medium or high."}
                choices:
                  - {title: {en: Low}, value: low}
                  - {title: {en: Medium}, value: medium}
                  - {title: {en: High}, value: high}
              - ask: topic
                prompt: {en: "What is it about?"}
              - say: {en: "Ticket: {priority}, {topic}."}
          order:
            trigger: {payloads: [/order]}
            steps:
              - ask: size
                prompt: ask_size
              - ask: email
                prompt: ask_email
              - say: {en: "Size {size} to {email}."}
          start_over:
            trigger: {intents: [goodbye]}
            steps:
              - set: {size: null}
              - say: hello
    """,
}


def say(chat: Chat, text: str, *entities: Entity, intent: str | None = None) -> list[str]:
    chat.now += 1
    nlu = NLUResult(text, "en", 0.9, intent, 0.9 if intent else 0.0, entities=entities)
    return texts(chat.finish(chat.engine.handle(chat.state, Inbound(WHO, "message", text=text), nlu, chat.now)))


def test_an_entity_fills_the_question_before_the_typed_text(engine_for: Callable[..., Engine]) -> None:
    chat = Chat(engine_for(FILES))
    chat.say("/ticket")
    assert say(chat, "urgent", Entity("priority", "high", 0, 6)) == ["What is it about?"]
    assert chat.state.slots["priority"] == "high"  # the entity's value, not the raw word


def test_a_rasa_payload_fills_the_open_question(engine_for: Callable[..., Engine]) -> None:
    chat = Chat(engine_for(FILES))
    chat.say("/ticket")
    assert texts(chat.say('/inform{"priority": "medium"}')) == ["What is it about?"]
    assert chat.state.slots["priority"] == "medium"


def test_an_entity_outside_the_choices_is_refused_and_asked_again(engine_for: Callable[..., Engine]) -> None:
    chat = Chat(engine_for(FILES))
    chat.say("/ticket")
    assert say(chat, "super high", Entity("priority", "super high", 0, 10)) == [
        "Please pick low, medium or high.",
        "How urgent is it?",
    ]
    assert chat.state.slots["priority"] is None


def test_an_entity_filled_before_its_question_is_checked_against_its_choices(
    engine_for: Callable[..., Engine],
) -> None:
    chat = Chat(engine_for(FILES))
    assert say(chat, "/ticket", Entity("priority", "super high")) == ["How urgent is it?"]
    assert chat.state.slots["priority"] is None


def test_several_slots_from_one_message(engine_for: Callable[..., Engine]) -> None:
    chat = Chat(engine_for(FILES))
    chat.say("/order")
    assert say(chat, "42, ana@example.com", Entity("email", "ana@example.com", 4, 19)) == [
        "Size 42 to ana@example.com."
    ]


def test_an_interruption_that_empties_an_answer_does_not_leave_the_flow_without_it(
    engine_for: Callable[..., Engine],
) -> None:
    chat = Chat(engine_for(FILES))
    chat.say("/order")
    chat.say("42")
    assert texts(chat.say("bye", "goodbye")) == ["Hello!", "Your email?"]
    assert chat.state.slots["size"] == 42  # the interruption's reset is not the order flow's
    assert texts(chat.say("ana@example.com")) == ["Size 42 to ana@example.com."]


def test_every_fill_goes_through_the_flows_validation_action(engine_for: Callable[..., Engine]) -> None:
    engine = engine_for(FILES, actions=["validate_ticket"])
    chat = Chat(engine, {"validate_ticket": ActionOutcome(effects=[SetSlot("priority", None)])})
    assert texts(chat.say("/ticket")) == ["How urgent is it?"]
    assert chat.actions_called == ["validate_ticket"]  # as the form starts, as Rasa activates a form
    replies = texts(chat.say('/inform{"priority": "high"}'))
    assert chat.actions_called == ["validate_ticket"] * 2
    assert replies == ["Please pick low, medium or high.", "How urgent is it?"]  # emptied: asked again
    assert chat.state.slots["priority"] is None


CORRECTING = {
    **FILES,
    "settings.yml": """
        settings:
          fallback_flow: fallback
          nlu_threshold: 0.3
          cancel: {response: cancelled, keywords: {en: [cancel]}}
          corrections: {en: ["no", actually, make it]}
    """,
}


def test_a_correction_changes_an_earlier_answer_and_reruns_the_steps_after_it(
    engine_for: Callable[..., Engine],
) -> None:
    chat = Chat(engine_for(CORRECTING))
    chat.say("/order")
    assert texts(chat.say("42")) == ["Your email?"]
    assert texts(chat.say("no, 43")) == ["Your email?"]
    assert chat.state.slots["size"] == 43
    assert [e.data["previous"] for e in chat.events if e.kind == "slot_corrected"] == [42]
    assert texts(chat.say("ana@example.com")) == ["Size 43 to ana@example.com."]


def test_a_correction_in_the_turn_after_the_flow_ended_reopens_it_and_only_then(
    engine_for: Callable[..., Engine],
) -> None:
    chat = Chat(engine_for(CORRECTING))
    chat.say("/order")
    chat.say("42")
    assert texts(chat.say("ana@example.com")) == ["Size 42 to ana@example.com."]
    assert texts(chat.say("no, 43")) == ["Size 43 to ana@example.com."]  # the steps after the size run again
    assert texts(chat.say("no, 44")) == ["Size 44 to ana@example.com."]  # the reopened flow ended again
    chat.say("hello")
    chat.say("no, 45")  # not right after the flow: no correction
    assert chat.state.slots["size"] == 44
    assert [e.data["value"] for e in chat.events if e.kind == "slot_corrected"] == [43, 44]


def test_a_correction_word_before_an_answer_to_the_open_question_is_its_answer(
    engine_for: Callable[..., Engine],
) -> None:
    chat = Chat(engine_for(CORRECTING))
    chat.say("/order")
    assert texts(chat.say("make it 44")) == ["Your email?"]
    assert chat.state.slots["size"] == 44 and not [e for e in chat.events if e.kind == "slot_corrected"]
