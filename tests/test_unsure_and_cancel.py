"""'I don't know', and cancels around the open request or with nothing open, at the engine's seam."""

from __future__ import annotations

from collections.abc import Callable

from bots.flow.engine import Engine
from tests.test_digressions import FLOWS, SETTINGS, TEXTS
from tests.test_engine import Chat, texts

UNSURE = """
      dont_know:
        response: need_it
        keywords: {en: ["i don't know", no idea], de: [weiß ich nicht]}
"""
MORE_FLOWS = """
      note:
        trigger: {payloads: [/note], keywords: {en: [leave a note]}}
        steps:
          - ask: name
            prompt: ask_remark
            optional: true
          - say: noted
"""
MORE_TEXTS = """
      need_it: {en: "I need it to go on."}
      ask_remark: {en: "Anything to add?"}
      noted: {en: "Noted."}
      nothing_open: {en: "Okay."}
"""


def chat(engine_for: Callable[..., Engine]) -> Chat:
    settings = SETTINGS.replace("      digressions:", UNSURE.lstrip("\n") + "      digressions:").replace(
        "response: cancelled", "response: cancelled\n        idle_response: nothing_open\n        filler: {en: [the]}"
    )
    settings = settings.replace("forget it]", "forget it, forget about]")
    return Chat(
        engine_for({"settings.yml": settings, "flows.yml": FLOWS + MORE_FLOWS, "texts.yml": TEXTS + MORE_TEXTS})
    )


def test_i_dont_know_to_a_needed_question_explains_and_asks_again_without_counting_an_attempt(
    engine_for: Callable[..., Engine],
) -> None:
    c = chat(engine_for)
    c.say("which size", "size_help")
    for _ in range(4):  # more than the three attempts a wrong answer has
        assert texts(c.say("I don't know", "deny")) == ["I need it to go on.", "Which size?"]
    assert texts(c.say("weiß ich nicht", "deny", language="de")) == ["I need it to go on.", "Welche Größe?"]
    assert texts(c.say("42")) == ["Size 42 it is."]


def test_i_dont_know_to_an_optional_question_skips_it(engine_for: Callable[..., Engine]) -> None:
    c = chat(engine_for)
    assert texts(c.say("/note")) == ["Anything to add?"]
    assert texts(c.say("no idea")) == ["Noted."]
    assert c.state.slots.get("name") is None and c.state.stack == []


def test_a_longer_message_with_i_dont_know_in_it_is_no_such_thing(engine_for: Callable[..., Engine]) -> None:
    c = chat(engine_for)
    c.say("/note")
    assert texts(c.say("I don't know why they squeak")) == ["Noted."]
    assert c.state.slots["name"] == "I don't know why they squeak"


def test_a_cancel_may_name_the_open_request_but_not_another(engine_for: Callable[..., Engine]) -> None:
    c = chat(engine_for)
    c.say("/note")
    assert texts(c.say("forget about the note")) == ["Stopped."]  # "note": a word of the open request
    c.say("/note")
    assert "Stopped." not in texts(c.say("forget about the weather"))  # not the open request


def test_a_cancel_with_nothing_open_stops_nothing_and_says_so(engine_for: Callable[..., Engine]) -> None:
    c = chat(engine_for)
    assert texts(c.say("hello", "greet")) == ["Hello!"]
    assert texts(c.say("never mind")) == ["Okay."]
    assert not [e for e in c.events if e.kind == "flow" and e.data.get("status") == "cancelled"]
