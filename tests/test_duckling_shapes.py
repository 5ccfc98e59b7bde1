"""``settings.duckling``: the built-in date, time, money and number entities also as Duckling gives them, for
Rasa projects' actions that read Duckling's ``additional_info`` (the financial demo's do)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bots.actions.tracker import rasa_events
from bots.flow.engine import Engine
from bots.types import Entity, Identity, Inbound, NLUResult, ThreadEvent
from tests.conftest import BASE_FILES
from tests.test_engine import Chat
from tests.test_slot_types import FILES, LANGUAGES, say

DUCKLING = {
    "settings.yml": BASE_FILES["settings.yml"].rstrip() + "\n          duckling: [time, amount-of-money, number]\n"
}


def _said_entities(engine: Engine, entities: tuple[Entity, ...]) -> list[dict[str, object]]:
    nlu = NLUResult("pay 30 dollars tomorrow at 10", "en", 0.9, None, 0.0, entities=entities)
    turn = engine.handle(engine.new_state(), Inbound(Identity("test", "u1"), "message", text=nlu.text), nlu, 1.0)
    Chat(engine).finish(turn)
    [user] = [e for e in turn.events if e.kind == "user"]
    return list(user.data["parse_data"]["entities"])


def test_built_in_entities_are_also_given_in_ducklings_shape(engine_for: Callable[..., Engine]) -> None:
    found = (
        Entity("money", {"amount": 30, "currency": "USD"}, 4, 14, "builtin"),
        Entity("date", "2026-12-07", 15, 23, "builtin"),
        Entity("time", "2026-12-07T10:30", 15, 29, "builtin"),
        Entity("number", 30, 4, 6, "builtin"),
    )
    entities = _said_entities(engine_for(DUCKLING), found)
    by_name: dict[object, list[dict[str, object]]] = {}
    for entity in entities:
        by_name.setdefault(entity["entity"], []).append(entity)
    assert [e["value"] for e in by_name["date"]] == ["2026-12-07"]  # the built-in one stays beside Duckling's
    assert by_name["money"][0]["value"] == {"amount": 30, "currency": "USD"}
    [money] = by_name["amount-of-money"]
    assert money["value"] == 30 and money["additional_info"] == {"value": 30, "unit": "$", "type": "value"}
    day, minute = by_name["time"]
    local = datetime(2026, 12, 7).astimezone().isoformat(timespec="milliseconds")
    assert day["value"] == local and day["extractor"] == "DucklingEntityExtractor"
    assert day["additional_info"]["grain"] == "day" and day["additional_info"]["type"] == "value"
    assert minute["additional_info"]["grain"] == "minute" and str(minute["value"]).startswith("2026-12-07T10:30:00.000")
    [number] = by_name["number"]
    assert number["additional_info"] == {"value": 30, "type": "value"}


def test_without_the_setting_entities_are_left_as_they_are(engine_for: Callable[..., Engine]) -> None:
    found = (Entity("date", "2026-12-07", 15, 23, "builtin"),)
    assert _said_entities(engine_for(), found) == [
        {"entity": "date", "value": "2026-12-07", "start": 15, "end": 23, "extractor": "builtin"}
    ]


def test_a_forms_activation_puts_the_slots_the_message_filled_after_it() -> None:
    """rasa-sdk's FormValidationAction validates the slot events at the end of the tracker (slots_to_validate):
    Rasa's form appends the message's candidates after activating, so the slot comes after the active_loop."""
    history = [
        ThreadEvent("user", {"text": "how much did I earn in January 2019", "parse_data": {}}, 1.0, "rest"),
        ThreadEvent("slot", {"name": "time", "value": "2019-01-01T00:00:00.000+00:00", "source": "entity"}, 1.0),
        ThreadEvent("flow", {"flow": "search", "status": "started"}, 1.0),
    ]
    events = [(e["event"], e.get("name")) for e in rasa_events(history, {"search": "search_form"})]
    assert events[-3:] == [("user", None), ("active_loop", "search_form"), ("slot", "time")]


def test_a_day_in_ducklings_shape_answers_no_time_question(engine_for: Callable[..., Engine]) -> None:
    """With settings.duckling a date is also Duckling's ``time`` (grain day): a question typed ``time`` still
    takes only a time of day, as without it."""
    files = {
        **FILES,
        "settings.yml": BASE_FILES["settings.yml"].rstrip() + "\n          duckling: [time, amount-of-money, number]\n",
    }
    chat = Chat(engine_for(files, languages=LANGUAGES))
    say(chat, "/visit", "en")
    assert say(chat, "next Friday", "en") == ["What time?"]
    assert say(chat, "tomorrow", "en") == ["What time?"] and chat.state.slots.get("hour") is None
    assert say(chat, "at 3pm", "en") == ["Your budget?"] and chat.state.slots.get("hour") == "15:00"
