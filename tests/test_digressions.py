"""Digressions at the engine's seam: the re-ask budget, resume lines, drop, and what counts as an aside."""

from __future__ import annotations

from collections.abc import Callable

from bots.flow.engine import Engine
from bots.flow.loader import LoadResult
from tests.test_engine import Chat, texts

SETTINGS = """
    settings:
      fallback_flow: fallback
      nlu_threshold: 0.3
      cancel:
        response: cancelled
        keywords: {en: [cancel, never mind, forget it], de: [abbrechen, egal, vergiss es]}
      digressions:
        resume: back
        max_reprompts: 1
        give_up: menu
"""
FLOWS = """
    flows:
      greet:
        trigger: {intents: [greet]}
        steps:
          - say: hello
      size:
        trigger: {intents: [size_help], payloads: [/size]}
        steps:
          - ask: size
            prompt: ask_size
          - say: size_ok
      contact:
        trigger: {intents: [contact]}
        steps:
          - ask: email
            prompt: ask_email
            on_digression: drop
          - say: got_email
      pay:
        trigger: {payloads: [/pay]}
        steps:
          - ask: size
            prompt: ask_size
            max_reprompts: 3
          - say: size_ok
      menu:
        steps:
          - say: menu_text
      fallback:
        steps:
          - say: fallback
"""
TEXTS = """
    responses:
      hello: {en: "Hello!", de: "Hallo!"}
      ask_size: {en: "Which size?", de: "Welche Größe?"}
      size_ok: {en: "Size {size} it is."}
      ask_email: {en: "Your email?"}
      got_email: {en: "Mail {email}"}
      cancelled: {en: "Stopped.", de: "Abgebrochen."}
      fallback: {en: "Sorry?"}
      back: {en: "Back to it:", de: "Zurück zur Frage:"}
      menu_text: {en: "Let's leave that. Anything else?"}
"""


def chat_with(engine_for: Callable[..., Engine], **files: str) -> Chat:
    return Chat(engine_for({"settings.yml": SETTINGS, "flows.yml": FLOWS, "texts.yml": TEXTS, **files}))


def test_an_aside_is_answered_then_the_question_resumes_until_the_budget_is_spent(
    engine_for: Callable[..., Engine],
) -> None:
    chat = chat_with(engine_for)
    chat.say("which size", "size_help")
    assert texts(chat.say("hello", "greet")) == ["Hello!", "Back to it: Which size?"]
    assert texts(chat.say("hello", "greet")) == ["Hello!", "Let's leave that. Anything else?"]
    assert chat.state.stack == []
    cancelled = [e.data for e in chat.events if e.kind == "flow" and e.data["status"] == "cancelled"]
    assert cancelled == [{"flow": "size", "status": "cancelled", "reason": "reprompt_budget", "slot": "size"}]
    assert texts(chat.say("42")) == ["Sorry?"]  # the question is no longer open


def test_the_budget_starts_again_for_the_next_question_and_a_step_can_raise_it(
    engine_for: Callable[..., Engine],
) -> None:
    chat = chat_with(engine_for)
    chat.say("/pay")
    for _ in range(3):
        assert texts(chat.say("hello", "greet"))[-1] == "Back to it: Which size?"
    assert texts(chat.say("hello", "greet"))[-1] == "Let's leave that. Anything else?"


def test_on_digression_drop_lets_the_question_go_after_the_aside(engine_for: Callable[..., Engine]) -> None:
    chat = chat_with(engine_for)
    chat.say("my email", "contact")
    assert texts(chat.say("hello", "greet")) == ["Hello!"]
    assert chat.state.stack == []


def test_the_resume_line_is_in_the_customers_language(engine_for: Callable[..., Engine]) -> None:
    chat = chat_with(engine_for)
    chat.say("welche größe", "size_help", language="de")
    assert texts(chat.say("hallo", "greet", language="de")) == ["Hallo!", "Zurück zur Frage: Welche Größe?"]


def test_a_message_of_cancel_phrases_only_cancels(engine_for: Callable[..., Engine]) -> None:
    chat = chat_with(engine_for)
    chat.say("welche größe", "size_help", language="de")
    assert texts(chat.say("Egal, vergiss es!", "greet", language="de")) == ["Abgebrochen."]
    chat.say("which size", "size_help")
    assert texts(chat.say("forget it, size 42")) == ["Size 42 it is."]  # more than a cancel: the answer


def test_an_answer_with_a_few_words_around_it_wins_over_another_intent(engine_for: Callable[..., Engine]) -> None:
    chat = chat_with(engine_for)
    chat.say("/pay")
    assert texts(chat.say("50", "greet", confidence=0.99)) == ["Size 50 it is."]
    chat = chat_with(engine_for)
    chat.say("/pay")
    assert texts(chat.say("hello, make it 44", "greet", confidence=0.99)) == ["Size 44 it is."]


def test_a_question_of_its_own_or_a_longer_request_is_an_aside(engine_for: Callable[..., Engine]) -> None:
    chat = chat_with(engine_for)
    chat.say("/pay")
    assert texts(chat.say("hello, is 42 a good size?", "greet")) == ["Hello!", "Back to it: Which size?"]
    assert texts(chat.say("hello there my friend, I wear 42", "greet")) == ["Hello!", "Back to it: Which size?"]


def test_an_unknown_give_up_flow_is_a_located_problem(make_bot: Callable[..., LoadResult]) -> None:
    result = make_bot({"settings.yml": SETTINGS.replace("give_up: menu", "give_up: mneu"), "flows.yml": FLOWS})
    [problem] = [p for p in result.problems if p.code == "BOT-E008"]
    assert "digressions.give_up 'mneu' is not a flow" in problem.message and "menu" in problem.message
    assert problem.mark is not None and problem.mark.file.endswith("settings.yml") and problem.mark.line == 10


def test_filler_around_a_cancel_phrase_cancels_but_filler_alone_does_not(engine_for: Callable[..., Engine]) -> None:
    settings = SETTINGS.replace("      digressions:", "        filler: {en: [ok, nah]}\n      digressions:")
    chat = chat_with(engine_for, **{"settings.yml": settings})
    chat.say("which size", "size_help")
    assert "Stopped." not in texts(chat.say("nah, ok"))  # no cancel phrase: not a cancel
    assert texts(chat.say("Nah, never mind!")) == ["Stopped."]
    chat.say("which size", "size_help")
    assert texts(chat.say("nah, never mind, size 42")) == ["Size 42 it is."]  # more than filler: the answer


def test_a_question_asked_again_says_its_reprompt_and_the_first_time_its_prompt(
    engine_for: Callable[..., Engine],
) -> None:
    """``reprompt``: the question asked again after a wrong answer or an aside, in other words than the first
    time ("Sure! What's your order number?" once, then "What's your order number?")."""
    flows = FLOWS.replace(
        "          - ask: size\n            prompt: ask_size\n            max_reprompts: 3",
        "          - ask: size\n            prompt: ask_size\n            reprompt: ask_size_again\n"
        "            type: number\n            max_reprompts: 3",
    )
    chat = chat_with(engine_for, **{"flows.yml": flows, "more.yml": "responses: {ask_size_again: {en: 'Size?'}}"})
    assert texts(chat.say("/pay")) == ["Which size?"]
    assert texts(chat.say("hello", "greet")) == ["Hello!", "Back to it: Size?"]
    assert texts(chat.say("a big one")) == ["Size?"]
    assert texts(chat.say("42")) == ["Size 42 it is."]


def test_an_unknown_reprompt_text_is_a_problem_with_its_line(make_bot: Callable[..., LoadResult]) -> None:
    flows = FLOWS.replace(
        "            max_reprompts: 3", "            max_reprompts: 3\n            reprompt: no_such_text"
    )
    result = make_bot({"settings.yml": SETTINGS, "flows.yml": flows, "texts.yml": TEXTS})
    assert result.bot is None
    assert any("no_such_text" in str(problem) and "flows.yml:" in str(problem) for problem in result.problems), [
        str(p) for p in result.problems
    ]
