"""Typed slots (date, time, money) through the engine, with the entities the real extractor finds at a fixed
"now": the value stored in its normal form, refused when it is not of the type, and written in the reply the
thread language's way (Babel). `validate` locates a money option on a slot of another type."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from bots.flow.engine import Engine
from bots.types import Inbound, NLUResult
from nlu_models.entities import EntityExtractor
from tests.conftest import write_bot
from tests.test_cli import threadline
from tests.test_engine import WHO, Chat, texts

NOON = datetime(2026, 12, 6, 12, 0)  # a Sunday: "tomorrow" is 2026-12-07
EXTRACTOR = EntityExtractor(())
LANGUAGES = ("en", "de", "zh", "es", "fr")
FILES = {
    "visit.yml": """
        slots:
          day: {type: date}
          hour: {type: time}
          budget: {type: money, currency: EUR, min: 10, max: 500}
        flows:
          visit:
            trigger: {payloads: [/visit]}
            steps:
              - ask: day
                prompt: {en: "Which day?"}
              - ask: hour
                prompt: {en: "What time?"}
              - ask: budget
                prompt: {en: "Your budget?"}
              - say: {en: "{day}|{hour}|{budget}"}
    """,
}


def say(chat: Chat, text: str, language: str) -> list[str]:
    chat.now += 1
    entities = EXTRACTOR.extract(text, language, now=NOON)
    nlu = NLUResult(text, language, 0.9, None, 0.0, entities=entities)
    return texts(chat.finish(chat.engine.handle(chat.state, Inbound(WHO, "message", text=text), nlu, chat.now)))


@pytest.mark.parametrize(
    "language, day, hour, budget, stored, reply",
    [
        ("en", "tomorrow", "at 3pm", "€75", ("2026-12-07", "15:00", 75), "December 7, 2026|3:00\u202fPM|€75"),
        ("de", "morgen", "um 10 Uhr", "fünfzig Euro", ("2026-12-07", "10:00", 50), "7. Dezember 2026|10:00|50\xa0€"),
        ("zh", "5月12日", "下午3点吧", "就100欧元吧", ("2027-05-12", "15:00", 100), "2027年5月12日|15:00|€100"),
        (
            "es",
            "12.05.2030",
            "a las 16:30",
            "120,50",
            ("2030-05-12", "16:30", 120.5),
            "12 de mayo de 2030|16:30|120,50\xa0€",
        ),
    ],
)
def test_typed_slots_are_stored_normal_and_written_the_languages_way(
    engine_for: Callable[..., Engine],
    language: str,
    day: str,
    hour: str,
    budget: str,
    stored: tuple[str, str, float],
    reply: str,
) -> None:
    chat = Chat(engine_for(FILES, languages=LANGUAGES))
    say(chat, "/visit", language)
    assert say(chat, day, language) == ["What time?"]
    assert say(chat, hour, language) == ["Your budget?"]  # "um 10 Uhr" at noon: 10:00, not 22:00
    assert say(chat, budget, language) == [reply]
    slots = chat.state.slots
    assert (slots["day"], slots["hour"], slots["budget"]) == (*stored[:2], {"amount": stored[2], "currency": "EUR"})


@pytest.mark.parametrize(
    "language, answers",
    [
        (
            "en",
            ["/visit", "next Friday", "tomorrow", "$50", "5", "€50"],
        ),  # a day for a time; another currency; too little
        ("fr", ["/visit", "vendredi prochain", "lundi", "50 dollars", "5", "50 €"]),
    ],
)
def test_what_is_not_of_the_type_is_refused(
    engine_for: Callable[..., Engine], language: str, answers: list[str]
) -> None:
    chat = Chat(engine_for(FILES, languages=LANGUAGES))
    say(chat, answers[0], language)
    assert say(chat, answers[1], language) == ["What time?"]
    assert say(chat, answers[2], language) == ["What time?"]  # a day is no time of day: asked again
    assert say(chat, "10:30", language) == ["Your budget?"]
    assert say(chat, answers[3], language) == ["Your budget?"]  # not euros: not read as 50 euros
    assert say(chat, answers[4], language) == ["Your budget?"]  # below min
    assert chat.state.slots["budget"] is None
    assert say(chat, answers[5], language)[0].endswith("50\xa0€" if language == "fr" else "€50")
    assert chat.state.slots["hour"] == "10:30"


def test_a_currency_on_a_slot_that_is_no_money_slot_is_located(tmp_path: Path) -> None:
    bot = write_bot(tmp_path / "bot", {"bot.yml": "slots:\n  size: {type: number, currency: EUR}\nflows: {}\n"})
    result = threadline("validate", str(bot))
    assert result.returncode != 0
    assert "bot.yml:2" in result.stdout + result.stderr
    assert "currency is only for money slots" in result.stdout + result.stderr
