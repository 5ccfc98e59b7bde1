"""rasa-sdk custom actions, run twice: in process, and on a real ``python -m rasa_sdk`` server process.

The actions live in tests/action_bot/actions and are plain rasa-sdk code. Every
test talks to the bot over the REST channel of the real server application, so
what is checked is what a customer (or a Rasa REST client) would receive.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bots.config import Config
from bots.handoff.desk import FALLBACK
from bots.runtime import Runtime, open_runtime
from bots.server.app import create_app
from tests.action_servers import start_action_server, stop_action_server
from tests.conftest import REPO
from tests.servers import free_port

ACTION_BOT = REPO / "tests" / "action_bot"


@pytest.fixture(scope="module")
def action_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real rasa-sdk action server with the test bot's actions, on a loopback port."""
    port = free_port()
    process = start_action_server(port, tmp_path_factory.mktemp("action-server") / "server.log", ACTION_BOT)
    try:
        yield f"http://127.0.0.1:{port}/webhook"
    finally:
        stop_action_server(process)


class Chat:
    """A REST client of the running server, plus a look at the thread behind it."""

    def __init__(self, runtime: Runtime, client: TestClient[Any, Any]) -> None:
        self.runtime = runtime
        self.client = client

    async def say(self, sender: str, message: str, **metadata: Any) -> list[dict[str, Any]]:
        body: dict[str, Any] = {"sender": sender, "message": message}
        if metadata:
            body["metadata"] = metadata
        response = await self.client.post("/webhooks/rest/webhook", json=body)
        assert response.status == 200, await response.text()
        return await response.json()  # type: ignore[no-any-return]

    async def texts(self, sender: str, message: str, **metadata: Any) -> list[str | None]:
        return [m.get("text") for m in await self.say(sender, message, **metadata)]

    async def thread(self, sender: str) -> str:
        from bots.types import Identity

        thread_id = await self.runtime.store.find(Identity("rest", sender))
        assert thread_id is not None
        return thread_id

    async def state(self, sender: str) -> dict[str, Any]:
        snapshot = await self.runtime.store.load(await self.thread(sender))
        assert snapshot is not None
        return snapshot.state

    async def events(self, sender: str, kind: str | None = None) -> list[dict[str, Any]]:
        stored = await self.runtime.store.events(await self.thread(sender), limit=10000)
        return [{"kind": e.event.kind, **e.event.data} for e in stored if kind is None or e.event.kind == kind]


def action_config(tmp_path: Path, mode: str, url: str = "http://127.0.0.1:9/webhook", **actions: Any) -> Config:
    return Config.model_validate(
        {
            "bot": ACTION_BOT,
            "languages": ["en", "de"],
            "data_dir": tmp_path / "data",
            "actions": {"mode": mode, "url": url, "timeout_seconds": 2, **actions},
        }
    )


@contextlib.asynccontextmanager
async def _chat(request: pytest.FixtureRequest, tmp_path: Path, **actions: Any) -> AsyncIterator[Chat]:
    """The server with the action bot, its actions in process or on the rasa-sdk server (``request.param``)."""
    url = request.getfixturevalue("action_server") if request.param == "remote" else "http://127.0.0.1:9/webhook"
    async with (
        open_runtime(action_config(tmp_path, request.param, url, **actions)) as runtime,
        TestClient(TestServer(create_app(runtime))) as client,
    ):
        yield Chat(runtime, client)


@pytest.fixture(params=["in_process", "remote"])
async def chat(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Chat]:
    async with _chat(request, tmp_path) as chat:
        yield chat


@pytest.fixture(params=["in_process", "remote"])
async def patient_chat(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Chat]:
    """Actions may take as long as a test holds them (tests/action_bot/actions/gate.py), whatever the machine."""
    async with _chat(request, tmp_path, timeout_seconds=600) as chat:
        yield chat


@contextlib.asynccontextmanager
async def _gate(tmp_path: Path) -> AsyncIterator[Path]:
    """A gate that holds an action (pass it as the message's ``gate`` metadata); always opened on the way out."""
    gate = tmp_path / "gate"
    gate.mkdir()
    try:
        yield gate
    finally:
        (gate / "open").touch()


async def _started(gate: Path) -> None:
    async def started() -> bool:
        return (gate / "started").exists()

    await _wait_for(started)


# --------------------------------------------------------------------------- events


async def test_slot_set_takes_effect_before_the_flow_goes_on(chat: Chat) -> None:
    assert await chat.texts("ana", "/set_slots") == ["After the action: color=red, count=3."]
    state = await chat.state("ana")
    assert state["slots"]["color"] == "red" and state["slots"]["count"] == 3
    slots = [(e["name"], e["value"], e["source"]) for e in await chat.events("ana", "slot")]
    assert slots == [("color", "red", "action:set_slots"), ("count", 3, "action:set_slots")]


async def test_all_slots_reset(chat: Chat) -> None:
    await chat.say("ana", "/set_slots")
    assert await chat.texts("ana", "/reset") == ["After the action: color=, count=."]
    assert (await chat.state("ana"))["slots"] == {
        "color": None,
        "count": None,
        "note": None,
        "counter": None,
        "amount": None,
        "payee": None,
        "memo": None,
    }


async def test_followup_with_a_flow_replaces_the_rest_of_the_current_one(chat: Chat) -> None:
    assert await chat.texts("ana", "/follow_flow") == ["The second flow."]
    flows = [(e["flow"], e["status"]) for e in await chat.events("ana", "flow")]
    assert flows == [("follow_flow", "started"), ("follow_flow", "ended"), ("second", "started"), ("second", "ended")]


async def test_followup_with_an_action_runs_it_then_the_flow_goes_on(chat: Chat) -> None:
    assert await chat.texts("ana", "/follow_action") == ["first the follow-up", "After the action: color=red, count=3."]
    assert [e["name"] for e in await chat.events("ana", "action")] == ["follow_action", "set_slots"]


async def test_conversation_paused_hands_over_and_resumed_gives_it_back(chat: Chat) -> None:
    # the flow's "Hello!" is not said; no agent is online, and this bot has no text of its own to say so
    assert await chat.texts("ana", "/pause") == ["A person will take over.", FALLBACK["handoff_no_agent"]]
    assert (await chat.state("ana"))["handoff"] is True
    # paused and told nobody is there: recorded; the first message is acknowledged once, the next not answered
    assert await chat.texts("ana", "hello") == [FALLBACK["handoff_message_noted"]]
    assert await chat.say("ana", "anyone?") == []
    assert [e["text"] for e in await chat.events("ana", "user")] == ["/pause", "hello", "anyone?"]

    assert await chat.texts("bo", "/pause_resume") == []
    assert [e["active"] for e in await chat.events("bo", "handoff")] == [True, False]
    assert await chat.texts("bo", "hello") == ["Hello!"]


async def test_restarted_forgets_slots_flows_and_reminders_but_keeps_the_log(chat: Chat) -> None:
    await chat.say("ana", "/set_slots")
    await chat.say("ana", "/remind", **{"in": 3600})
    assert len((await chat.state("ana"))["reminders"]) == 1
    assert await chat.texts("ana", "/restart") == ["Starting over."]
    state = await chat.state("ana")
    assert state["slots"]["color"] is None and state["stack"] == [] and state["reminders"] == []
    assert state["wake_at"] is None
    kinds = [e["kind"] for e in await chat.events("ana")]
    assert kinds.count("user") == 3 and "restart" in kinds


async def test_user_utterance_reverted_goes_back_to_the_open_question(chat: Chat) -> None:
    assert await chat.texts("ana", "/survey") == ["Which color?"]
    assert await chat.texts("ana", "/oops") == ["Let's pretend you didn't say that."]
    state = await chat.state("ana")
    assert [(f["flow"], f["waiting"]) for f in state["stack"]] == [("survey", True)]
    assert await chat.texts("ana", "blue") == ["Color blue."]
    assert [e["kind"] for e in await chat.events("ana") if e["kind"] == "rewind"] == ["rewind"]


async def test_reminder_fires_later_and_reaches_the_thread(chat: Chat) -> None:
    assert await chat.texts("ana", "/remind", **{"in": 0.5}) == ["I'll remind you in 0.5s."]

    async def fired() -> bool:
        return any(e.get("text") == "Reminder stretch!" for e in await chat.events("ana", "bot"))

    await _wait_for(fired)
    reminders = [(e["status"], e["name"]) for e in await chat.events("ana", "reminder")]
    assert reminders == [("scheduled", "r1"), ("fired", "r1")]
    assert [e["text"] for e in await chat.events("ana", "bot")][-1] == "Reminder stretch!"
    state = await chat.state("ana")
    assert state["reminders"] == [] and state["wake_at"] is None and state["slots"]["note"] == "stretch"


async def test_reminder_killed_by_a_user_message_and_cancelled_by_name(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bots.reminders import ReminderScheduler

    await chat.say("ana", "/remind_killable")
    assert [r["name"] for r in (await chat.state("ana"))["reminders"]] == ["r2"]
    await chat.say("ana", "hello")
    assert (await chat.state("ana"))["reminders"] == []
    await chat.say("bo", "/remind", **{"in": 3600})
    await chat.say("bo", "hello")  # r1 is not killed by messages
    assert [r["name"] for r in (await chat.state("bo"))["reminders"]] == ["r1"]
    await chat.say("bo", "/cancel_reminder")
    assert (await chat.state("bo"))["reminders"] == []
    assert [(e["status"], e.get("reason")) for e in await chat.events("ana", "reminder")] == [
        ("scheduled", None),
        ("cancelled", "user_message"),
    ]
    later = time.time() + 60  # well after r2 was due (1 s): a pass of the scheduler then fires nothing
    monkeypatch.setattr(chat.runtime.pipeline, "clock", lambda: later)
    assert await ReminderScheduler(chat.runtime.threads, clock=lambda: later).fire_due() == 0
    assert "Reminder killable!" not in [e.get("text") for e in await chat.events("ana", "bot")]


async def test_bot_uttered_event_is_said(chat: Chat) -> None:
    assert await chat.say("ana", "/bot_uttered") == [
        {"recipient_id": "ana", "text": "From an event", "buttons": [{"title": "Again", "payload": "/bot_uttered"}]}
    ]


async def test_unsupported_events_are_reported_and_the_rest_applies(
    chat: Chat, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bots.actions import translate

    monkeypatch.setattr(translate, "_REPORTED", set())  # what earlier tests in this process reported
    assert await chat.texts("ana", "/unsupported") == ["Done."]
    assert await chat.texts("ana", "/unsupported") == ["Done."]
    assert (await chat.state("ana"))["slots"]["color"] == "green"
    actions = await chat.events("ana", "action")
    assert [a["ignored"] for a in actions] == [["loop_interrupted"], ["loop_interrupted"]]
    [report] = [r.getMessage() for r in caplog.records if "does not support" in r.getMessage()]  # once
    assert report.startswith("action unsupported returned the 'loop_interrupted' event, which Threadline does not")


async def test_a_form_validation_action_checks_each_answer(chat: Chat) -> None:
    assert await chat.texts("ana", "/survey") == ["Which color?"]
    assert await chat.texts("ana", "purple") == ["We don't make shoes in purple.", "Which color?"]
    assert (await chat.state("ana"))["slots"]["color"] is None
    assert await chat.texts("ana", "Blue") == ["Color blue."]  # the validator normalised it
    # once as the form starts (as Rasa activates a form), then once per answer
    assert [e["name"] for e in await chat.events("ana", "action")] == ["validate_survey"] * 3
    [rejected] = await chat.events("ana", "slot_rejected")
    assert rejected["name"] == "color" and rejected["by"] == "validate_survey"

    await chat.say("bo", "/survey")
    await chat.say("bo", "pink")
    assert await chat.texts("bo", "beige") == ["We don't make shoes in beige.", "Sorry?"]  # max_attempts: 2


async def test_a_form_asks_what_required_slots_and_requested_slot_say(chat: Chat) -> None:
    assert await chat.texts("ana", "/pay") == ["How much?"]
    assert await chat.texts("ana", "0") == ["The amount must be above zero.", "How much?"]
    assert await chat.texts("ana", "50") == ["To whom?"]
    # all required_slots are filled: the validator sets requested_slot to None, so the memo is not asked
    assert await chat.texts("ana", "bob") == ["Form over: amount=50, payee=Bob, memo=."]

    await chat.say("bo", "/pay")
    assert await chat.texts("bo", "500") == ["To whom?"]
    assert await chat.texts("bo", "ann") == ["What for?"]  # required_slots adds the memo above 100
    assert await chat.texts("bo", "rent") == ["Form over: amount=500, payee=Ann, memo=rent."]


async def test_extract_slot_fills_another_slot_of_the_form_from_the_same_message(chat: Chat) -> None:
    await chat.say("ana", "/pay")
    assert await chat.texts("ana", "50 to bob") == ["Form over: amount=50, payee=Bob, memo=."]
    slots = [(e["name"], e["value"], e["source"]) for e in await chat.events("ana", "slot")]
    assert ("payee", "Bob", "action:validate_payment_form") in slots


async def test_requested_slot_can_send_the_form_back_to_an_earlier_question(chat: Chat) -> None:
    await chat.say("ana", "/pay")
    await chat.say("ana", "50")
    # the validator empties both slots; its required_slots then request the amount first, as Rasa would ask
    assert await chat.texts("ana", "nobody") == ["Payment cancelled.", "How much?"]
    assert await chat.texts("ana", "20") == ["To whom?"]


async def test_a_validator_that_sets_requested_slot_to_none_ends_the_form(chat: Chat) -> None:
    await chat.say("ana", "/survey")
    assert await chat.texts("ana", "none") == ["No color then.", "Color ."]  # the flow goes on after the form
    assert (await chat.state("ana"))["stack"] == []
    [done] = await chat.events("ana", "form")
    assert done["form"] == "survey" and done["status"] == "done"


async def test_active_loop_and_requested_slot_only_while_a_forms_question_is_open(chat: Chat) -> None:
    [outside] = await chat.say("ana", "/tracker")
    assert outside["custom"]["active_loop"] is None and outside["custom"]["slots"]["requested_slot"] is None

    await chat.say("ana", "/pay")
    [inside, again] = await chat.say("ana", "/tracker")  # interrupts the form's question, which is asked again
    assert inside["custom"]["active_loop"] == "payment_form"
    assert inside["custom"]["slots"]["requested_slot"] == "amount"
    assert "active_loop" in inside["custom"]["event_types"]
    assert again["text"] == "How much?"

    await chat.say("bo", "/note")  # a flow with a question, not declared a form
    [seen, _] = await chat.say("bo", "/tracker")
    assert seen["custom"]["active_loop"] is None and seen["custom"]["slots"]["requested_slot"] is None


async def test_active_loop_none_from_an_action_ends_the_open_form(chat: Chat) -> None:
    await chat.say("ana", "/pay")
    assert await chat.texts("ana", "/stop_form") == ["Stopped payment_form."]  # the form's question is not asked again
    assert (await chat.state("ana"))["stack"] == []
    flows = [(e["flow"], e["status"]) for e in await chat.events("ana", "flow")]
    assert ("payment", "cancelled") in flows


async def test_an_action_returning_to_the_active_form_goes_back_to_it_once(chat: Chat) -> None:
    # Outside a form the financial demo's pattern just answers (it used to revert and restart 20 times)
    assert await chat.texts("ana", "/balance") == ["Your balance is 100."]
    assert [e["name"] for e in await chat.events("ana", "action")] == ["show_balance"]
    # Inside one, the message is reverted and the form asks its open question again, once
    assert await chat.texts("ana", "/pay") == ["How much?"]
    assert await chat.texts("ana", "/balance") == ["Your balance is 100.", "How much?"]
    assert [(f["flow"], f["waiting"]) for f in (await chat.state("ana"))["stack"]] == [("payment", True)]
    assert await chat.texts("ana", "50") == ["To whom?"]
    # Inside a flow that is no form, nothing is reverted: the flow's own question comes back as usual
    await chat.say("bo", "/note")
    assert await chat.texts("bo", "/balance") == ["Your balance is 100.", "Any note?"]


# --------------------------------------------------------------------------- messages


async def test_dispatcher_messages_render_on_the_rest_channel(chat: Chat) -> None:
    assert await chat.say("ana", "/utter_all") == [
        {"recipient_id": "ana", "text": "Plain text"},
        {
            "recipient_id": "ana",
            "text": "Pick one",
            "buttons": [
                {"title": "Yes", "payload": "/affirm"},
                {"title": "Site", "type": "web_url", "url": "https://shop.example/"},
            ],
        },
        {"recipient_id": "ana", "image": "https://shop.example/shoe.png"},
        {"recipient_id": "ana", "attachment": {"type": "video", "payload": {"src": "https://shop.example/run.mp4"}}},
        {  # Rasa's REST channel: one item per element, "<title> : <subtitle>" with its buttons as given
            "recipient_id": "ana",
            "text": "Trail Runner 2 : €129",
            "buttons": [
                {"title": "View", "url": "https://shop.example/tr2", "type": "web_url"},
                {"title": "Buy", "payload": "/buy", "type": "postback"},
            ],
        },
        {"recipient_id": "ana", "text": "City Glide : €99", "buttons": []},
        {
            "recipient_id": "ana",
            "text": "Sizes?",
            "buttons": [{"content_type": "text", "title": "42", "payload": '/size{"size": 42}'}],
        },
        {"recipient_id": "ana", "custom": {"kind": "rating", "scale": 5}},
        {"recipient_id": "ana", "text": "Hi Ana, in English."},
    ]


async def test_response_by_name_follows_the_thread_language(chat: Chat) -> None:
    assert await chat.texts("jan", "hallo guten morgen") == ["Hallo!"]
    assert (await chat.texts("jan", "/utter_all"))[-1] == "Hallo Ana, auf Deutsch."


async def test_the_tracker_is_faithful(chat: Chat) -> None:
    await chat.say("ana", "/set_slots")
    [reply] = await chat.say("ana", "show me the tracker", page="/shoes")
    seen = reply["custom"]
    thread_id = await chat.thread("ana")
    assert seen["sender_id"] == thread_id
    assert seen["slots"] == {
        "color": "red",
        "count": 3,
        "note": None,
        "counter": None,
        "amount": None,
        "payee": None,
        "memo": None,
        "language": "en",
        "locale": "en",  # no settings.locales entry: the language itself
        "requested_slot": None,
    }
    [_, user] = await chat.events("ana", "user")
    latest = seen["latest_message"]
    assert latest["text"] == "show me the tracker"
    assert latest["intent"] == user["parse_data"]["intent"] and latest["intent"]["name"] == "debug"
    assert latest["intent"]["confidence"] > 0.3
    assert latest["intent_ranking"][0]["name"] == "debug"
    assert latest["language"]["code"] == "en"
    assert latest["metadata"] == {"page": "/shoes"}
    assert seen["intent"] == "debug"
    assert seen["input_channel"] == "rest"
    assert seen["paused"] is False
    assert seen["active_loop"] is None  # a flow that is not declared a form is no form
    assert seen["bot_texts"] == ["After the action: color=red, count=3."]
    kinds = seen["event_types"]
    assert kinds[:2] == ["action", "user"] and kinds.count("user") == 2 and "active_loop" not in kinds
    assert kinds.count("slot") == 2 and "bot" in kinds
    domain = seen["domain"]
    assert domain["intents"] == ["debug", "goodbye", "greet"]
    assert domain["slots"] == [
        "amount",
        "color",
        "count",
        "counter",
        "language",
        "memo",
        "note",
        "payee",
        "requested_slot",
    ]
    assert "hello" in domain["responses"] and "greeting_for" in domain["responses"]
    assert "echo_tracker" in domain["actions"] and "set_slots" in domain["actions"]
    assert domain["forms"] == {
        "survey": {"required_slots": ["color"]},
        "payment_form": {"required_slots": ["amount", "payee", "memo"]},
    }
    assert {"text": "Hallo!", "condition": [{"type": "slot", "name": "language", "value": "de"}]} in domain["hello"]


# --------------------------------------------------------------------------- failures


async def test_a_slow_action_times_out_into_the_error_path(chat: Chat) -> None:
    # the action never returns, so an answer at all means the timeout ended the wait
    assert await chat.texts("ana", "/slow") == ["The action failed; taking the error path."]
    [action] = await chat.events("ana", "action")
    assert action["ok"] is False and action["error"] == "timed out after 2s"
    assert (await chat.state("ana"))["slots"]["color"] is None
    assert await chat.texts("ana", "hello") == ["Hello!"]


async def test_an_exception_in_an_action_gets_a_polite_message_and_loses_nothing(
    chat: Chat, caplog: pytest.LogCaptureFixture
) -> None:
    replies = await chat.texts("ana", "/crash")
    assert replies == ["Sorry, something went wrong on our side. Please try again in a moment."]
    [action] = await chat.events("ana", "action")
    assert action["ok"] is False and "the order system is down" in action["error"]
    assert [e["text"] for e in await chat.events("ana", "user")] == ["/crash"]
    assert any("crash" in r.getMessage() for r in caplog.records if r.levelname == "ERROR")


async def test_a_rejected_action_fails_cleanly(chat: Chat) -> None:
    assert await chat.texts("ana", "/reject") == [
        "Sorry, something went wrong on our side. Please try again in a moment."
    ]
    [action] = await chat.events("ana", "action")
    assert action["ok"] is False and "not now" in action["error"]


async def test_a_sync_action_does_not_block_other_conversations(patient_chat: Chat, tmp_path: Path) -> None:
    chat = patient_chat
    async with _gate(tmp_path) as gate:
        slow = asyncio.create_task(chat.texts("ana", "/slow_sync", gate=str(gate)))
        await _started(gate)  # the action's thread now blocks until the gate opens
        assert await chat.texts("bo", "hello") == ["Hello!"]  # answered while it blocks
        assert not slow.done()
    assert await slow == ["Done."]
    assert (await chat.state("ana"))["slots"]["color"] == "slow"


async def test_many_threads_calling_actions_keep_per_thread_order(chat: Chat) -> None:
    senders = [f"user-{i}" for i in range(12)]
    messages = [f'/count{{"note": "{n}"}}' for n in range(8)]

    async def one(sender: str) -> None:
        await asyncio.gather(*(chat.say(sender, m) for m in messages))

    await asyncio.gather(*(one(s) for s in senders))
    for sender in senders:
        replies = [e["text"] for e in await chat.events(sender, "bot")]
        users = [e["text"] for e in await chat.events(sender, "user")]
        assert len(users) == 8 and sorted(users) == sorted(messages)
        assert replies == [f"{text} -> {i}" for i, text in enumerate(users, start=1)]
        assert (await chat.state(sender))["slots"]["counter"] == 8


async def test_an_action_server_that_is_down(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/webhook"
    async with (
        open_runtime(action_config(tmp_path, "remote", url)) as runtime,
        TestClient(TestServer(create_app(runtime))) as client,
    ):
        chat = Chat(runtime, client)
        assert await chat.texts("ana", "/set_slots") == [
            "Sorry, something went wrong on our side. Please try again in a moment."
        ]
        [action] = await chat.events("ana", "action")
        assert action["ok"] is False and "is not reachable" in action["error"] and url[:-8] in action["error"]
        assert await chat.texts("ana", "hello") == ["Hello!"]


# --------------------------------------------------------------------------- reminders on Messenger


@pytest.fixture
async def messenger_chat(tmp_path: Path) -> AsyncIterator[tuple[Chat, Any]]:
    from tests.fake_graph import FakeGraph
    from tests.test_messenger import messenger_config

    graph = await FakeGraph().start()
    config = action_config(tmp_path, "in_process").model_copy(
        update={"connectors": Config.model_validate({"connectors": {"messenger": messenger_config(graph)}}).connectors}
    )
    try:
        async with open_runtime(config) as runtime, TestClient(TestServer(create_app(runtime))) as client:
            yield Chat(runtime, client), graph
    finally:
        await graph.close()


async def _wait_for(predicate: Any, seconds: float = 60.0) -> None:
    """Returns as soon as ``predicate()`` is true; the ceiling only turns a hang into a clear failure."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{predicate.__name__} was still false after {seconds:g} s")


async def test_a_reminder_reaches_messenger_inside_the_window(messenger_chat: tuple[Chat, Any]) -> None:
    from bots.server.admin import CHANNELS
    from bots.types import Identity
    from tests.test_messenger import deliver, envelope, text_event

    chat, graph = messenger_chat
    assert await deliver(chat.client, envelope(text_event("psid-1", "/remind", "m1"))) == 200
    await chat.client.app[CHANNELS]["messenger"].idle()
    assert [m["message"].get("text") for m in graph.messages("psid-1")] == ["I'll remind you in 1s."]

    async def reminded() -> bool:
        return len(graph.messages("psid-1")) == 2

    await _wait_for(reminded)
    last = graph.sends("psid-1")[-1]
    assert last["message"]["text"] == "Reminder stretch!" and last["messaging_type"] == "RESPONSE"
    thread_id = await chat.runtime.store.find(Identity("messenger", "psid-1"))
    assert thread_id is not None

    async def recorded() -> bool:  # the send is confirmed in the thread, as for any turn
        return [e.event.kind for e in await chat.runtime.store.events(thread_id)][-2:] == ["bot", "delivered"]

    await _wait_for(recorded)


async def test_a_reminder_outside_the_24_hour_window_is_not_sent(messenger_chat: tuple[Chat, Any]) -> None:
    from bots.server.admin import CHANNELS
    from bots.types import Identity
    from tests.test_messenger import deliver, envelope, text_event

    chat, graph = messenger_chat
    event = text_event("psid-2", "/remind", "m2")
    event["timestamp"] = int((time.time() - 24 * 3600 - 5) * 1000)  # the person wrote just over a day ago
    assert await deliver(chat.client, envelope(event)) == 200
    await chat.client.app[CHANNELS]["messenger"].idle()
    thread_id = await chat.runtime.store.find(Identity("messenger", "psid-2"))
    assert thread_id is not None

    async def refused() -> bool:
        return any(e.event.kind == "send_refused" for e in await chat.runtime.store.events(thread_id))

    await _wait_for(refused)
    assert len(graph.messages("psid-2")) == 1  # only the immediate answer, sent as a reply
    [refusal] = [e.event.data for e in await chat.runtime.store.events(thread_id) if e.event.kind == "send_refused"]
    assert refusal["reason"].startswith("outside_window")


# --------------------------------------------------------------------------- CLI


def _config_file(tmp_path: Path, mode: str, url: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(f"bot: {ACTION_BOT}\nlanguages: [en, de]\nactions:\n  mode: {mode}\n  url: {url}\n")
    return path


def _bot_calling_a_missing_action(tmp_path: Path) -> Path:
    import shutil

    bot = tmp_path / "bot"
    shutil.copytree(ACTION_BOT, bot, ignore=shutil.ignore_patterns("__pycache__"))
    (bot / "extra.yml").write_text(
        "flows:\n  extra:\n    trigger: {payloads: [/extra]}\n    steps:\n      - action: set_slot\n"
    )
    return bot


@pytest.mark.parametrize("mode", ["in_process", "remote"])
def test_actions_command_lists_the_actions_and_their_flows(
    mode: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from tests.test_cli import threadline

    url = request.getfixturevalue("action_server") if mode == "remote" else "http://127.0.0.1:9/webhook"
    result = threadline("actions", "--config", str(_config_file(tmp_path, mode, url)))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("36 actions in ")
    assert "  set_slots  (called by set_slots, follow_action)" not in lines  # follow-ups are not flow calls
    assert "  set_slots  (called by set_slots)" in lines
    assert "  echo_tracker  (called by tracker)" in lines
    assert "  utter_offer  (called by utter_offer)" in lines


@pytest.mark.parametrize("mode", ["in_process", "remote"])
def test_validate_reports_a_flow_calling_an_action_that_is_missing(
    mode: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from tests.test_cli import threadline

    url = request.getfixturevalue("action_server") if mode == "remote" else "http://127.0.0.1:9/webhook"
    bot = _bot_calling_a_missing_action(tmp_path)
    result = threadline("validate", str(bot), "--config", str(_config_file(tmp_path, mode, url)))
    assert result.returncode == 1
    assert "bot/extra.yml:5:17: error FLOW-E009: flow 'extra': unknown action 'set_slot' (available: " in result.stderr


def test_validate_checks_the_forms(tmp_path: Path) -> None:
    import shutil

    from tests.test_cli import threadline

    bot = tmp_path / "bot"
    shutil.copytree(ACTION_BOT, bot, ignore=shutil.ignore_patterns("__pycache__"))
    flows = bot / "flows.yml"
    flows.write_text(flows.read_text().replace("    form: survey\n", ""))  # the validator is left without a form
    config = str(_config_file(tmp_path, "in_process", "x"))
    result = threadline("validate", str(bot), "--config", config)
    assert result.returncode == 0, result.stderr
    assert "warning FLOW-W021: flow 'survey' is not a form, so action 'validate_survey' never checks" in result.stdout

    (bot / "extra.yml").write_text("flows:\n  twin:\n    form: payment_form\n    steps:\n      - say: done\n")
    result = threadline("validate", str(bot), "--config", config)
    assert result.returncode == 1
    assert (
        "error FLOW-E020: flow 'payment': form 'payment_form' is already the form of flow 'twin' (bot/extra.yml line 2)"
    ) in result.stderr
    assert "bot/extra.yml:3:11: warning FLOW-W020: flow 'twin' is the form 'payment_form' but asks no question" in (
        result.stdout + result.stderr
    )


def test_validate_with_an_unreachable_action_server_warns(tmp_path: Path) -> None:
    from tests.test_cli import threadline

    url = f"http://127.0.0.1:{free_port()}/webhook"
    result = threadline("validate", str(ACTION_BOT), "--config", str(_config_file(tmp_path, "remote", url)))
    assert result.returncode == 0, result.stderr
    assert "warning BOT-W004: actions not checked: the action server at http://127.0.0.1:" in result.stdout
    result = threadline("actions", "--config", str(_config_file(tmp_path, "remote", url)))
    assert result.returncode == 1 and "is not reachable" in result.stderr


def test_a_broken_actions_package_is_reported_with_file_and_line(tmp_path: Path) -> None:
    from tests.test_cli import threadline

    bot = _bot_calling_a_missing_action(tmp_path)
    (bot / "actions" / "broken.py").write_text("from rasa_sdk import Action\n\nORDERS = {\n")
    result = threadline("validate", str(bot), "--config", str(_config_file(tmp_path, "in_process", "x")))
    assert result.returncode == 1
    assert "error BOT-E011: " in result.stderr and "broken.py" in result.stderr and "SyntaxError" in result.stderr


# --------------------------------------------------------------------------- the demo bot's actions


@pytest.mark.parametrize("mode", ["in_process", "remote"])
async def test_demo_actions_look_up_orders_and_recall_the_viewed_product(mode: str, tmp_path: Path) -> None:
    from tests.conftest import DEMO_BOT, demo_config

    process = None
    url = "http://127.0.0.1:9/webhook"
    if mode == "remote":  # the demo's own package on its own action server
        port = free_port()
        process = await asyncio.to_thread(start_action_server, port, tmp_path / "demo-actions.log", DEMO_BOT)
        url = f"http://127.0.0.1:{port}/webhook"
    try:
        config = demo_config(tmp_path / "data", actions={"mode": mode, "url": url})
        async with open_runtime(config) as runtime, TestClient(TestServer(create_app(runtime))) as client:
            chat = Chat(runtime, client)
            before = date.today()
            replies = await chat.texts("ana", "where is my order ST-123456")
            eta = {f"{d:%B} {d.day}, {d.year}" for d in (before + timedelta(days=2), date.today() + timedelta(days=2))}
            assert replies in [
                [f"Good news! Your order ST-123456 (Trail Runner 2, EU 42) has shipped and should arrive by {day}."]
                for day in eta
            ]
            [lookup] = await chat.events("ana", "action")
            assert lookup == {"kind": "action", "name": "lookup_order", "ok": True, "error": None}
            slots = {e["name"]: e["value"] for e in await chat.events("ana", "slot")}
            assert slots["order_found"] is True and slots["order_item"] == "Trail Runner 2, EU 42"

            for sku in ("CG1", "TR2"):
                response = await client.post(
                    "/webhooks/rest/webhook",
                    json={"sender": "bo", "event": {"name": "product_viewed", "data": {"sku": sku}}},
                )
                assert response.status == 200
            response = await client.post(
                "/webhooks/rest/webhook", json={"sender": "bo", "event": {"name": "conversation_start"}}
            )
            [welcome] = await response.json()
            assert welcome["text"].startswith(
                "Hi! I'm Stride's shopping assistant 👟 Looking at the Trail Runner 2 (€129)?"
            )
            assert welcome["buttons"][1] == {"title": "Buy", "payload": '/buy{"sku": "TR2"}'}

            response = await client.post(
                "/webhooks/rest/webhook", json={"sender": "cy", "event": {"name": "conversation_start"}}
            )
            [welcome] = await response.json()
            assert welcome["text"].startswith("Hi! I'm Stride's shopping assistant")
    finally:
        if process is not None:
            stop_action_server(process)


@pytest.mark.parametrize("signed_in", [False, True], ids=["visitor", "signed-in customer"])
async def test_a_reminder_reaches_the_open_website_widget(tmp_path: Path, signed_in: bool) -> None:
    from tests.test_routing import SECRET, signed
    from tests.test_web_protocol import open_tab

    config = action_config(tmp_path, "in_process").model_copy(
        update={"connectors": Config.model_validate({"connectors": {"web": {"identity_secret": SECRET}}}).connectors}
    )
    async with open_runtime(config) as runtime, TestClient(TestServer(create_app(runtime))) as client:
        hello = {"customer": signed("cust-42")} if signed_in else {}
        tab, _ = await open_tab(client, "visitor0000000000042", **hello)
        await tab.send(type="message", id="m1", text="/remind")
        _, messages = await tab.until_ack("m1")
        assert [m["text"] for m in messages if m["role"] == "bot"] == ["I'll remind you in 1s."]
        pushed = await tab.next("messages")  # nobody asked: the reminder's reply is pushed live
        assert [m["text"] for m in pushed["messages"]] == ["Reminder stretch!"]


async def test_a_reminder_due_while_the_server_was_down_fires_after_the_restart(tmp_path: Path) -> None:
    config = action_config(tmp_path, "in_process")
    async with open_runtime(config) as runtime, TestClient(TestServer(create_app(runtime))) as client:
        chat = Chat(runtime, client)
        assert await chat.texts("ana", "/remind", **{"in": 1.0}) == ["I'll remind you in 1s."]
        thread_id = await chat.thread("ana")
        [reminder] = (await chat.state("ana"))["reminders"]
        assert reminder["name"] == "r1"

    async def due() -> bool:  # falls due while nothing runs
        return time.time() > reminder["due"]

    await _wait_for(due)
    restarted_at = time.time()
    async with open_runtime(config) as runtime, TestClient(TestServer(create_app(runtime))) as client:

        async def fired() -> bool:
            return any(
                e.event.data.get("text") == "Reminder stretch!"
                for e in await runtime.store.events(thread_id)
                if e.event.kind == "bot"
            )

        await _wait_for(fired)
        [firing] = [
            e.event
            for e in await runtime.store.events(thread_id)
            if e.event.kind == "reminder" and e.event.data["status"] == "fired"
        ]
        assert firing.timestamp >= restarted_at  # fired by the restarted server, not before it stopped
        snapshot = await runtime.store.load(thread_id)
        assert snapshot is not None and snapshot.state["reminders"] == []


# --------------------------------------------------------------------------- actions that misbehave


APOLOGY = "Sorry, something went wrong on our side. Please try again in a moment."


async def test_an_action_loop_is_stopped_with_one_apology(chat: Chat) -> None:
    assert await chat.texts("ana", "/follow_self") == [APOLOGY]
    assert len(await chat.events("ana", "action")) == 1  # the second round would start from the very same state
    [error] = [e["error"] for e in await chat.events("ana", "error")]
    assert error.startswith("action follow_self was asked for again on the very same state")
    assert (await chat.state("ana"))["stack"] == []
    assert await chat.texts("ana", "hello") == ["Hello!"]


async def test_a_loop_that_talks_says_its_message_once(chat: Chat) -> None:
    assert await chat.texts("ana", "/talk_self") == ["Still here.", APOLOGY]
    assert len(await chat.events("ana", "action")) == 1


async def test_a_cut_loop_apologises_in_the_threads_language(chat: Chat) -> None:
    assert await chat.texts("jan", "hallo guten morgen") == ["Hallo!"]
    assert await chat.texts("jan", "/talk_self") == [
        "Still here.",
        "Entschuldigung, bei uns ist etwas schiefgelaufen. Bitte versuch es gleich noch einmal.",
    ]


async def test_a_loop_whose_state_changes_stops_at_the_limit_without_a_flood(chat: Chat) -> None:
    assert await chat.texts("ana", "/count_self") == ["Round 1.", APOLOGY]  # not Round 1. to Round 20.
    assert len(await chat.events("ana", "action")) == 20
    [error] = [e["error"] for e in await chat.events("ana", "error")]
    assert error.startswith("more than 20 actions in one turn")
    assert (await chat.state("ana"))["stack"] == []


async def test_a_reminder_for_a_time_already_past_is_dropped(chat: Chat) -> None:
    assert await chat.texts("ana", "/remind_past") == ["Done."]
    [reminder] = await chat.events("ana", "reminder")
    assert reminder["status"] == "dropped" and reminder["reason"] == "its time has already passed"
    assert (await chat.state("ana"))["wake_at"] is None


async def test_one_bad_event_spares_the_others(chat: Chat) -> None:
    assert await chat.texts("ana", "/odd_values") == ["After the action: color=kept, count=7."]
    [action] = await chat.events("ana", "action")
    assert action["ok"] is True and len(action["ignored"]) == 1
    assert action["ignored"][0].startswith("reminder (invalid: ")


async def test_a_value_json_cannot_carry_fails_the_action_the_same_way_in_both_modes(chat: Chat) -> None:
    assert await chat.texts("ana", "/not_json") == [
        "Sorry, something went wrong on our side. Please try again in a moment."
    ]
    [action] = await chat.events("ana", "action")
    assert action["ok"] is False and (await chat.state("ana"))["slots"]["color"] is None


async def test_an_action_may_import_its_package_lazily(chat: Chat) -> None:
    assert await chat.texts("ana", "/lazy_import") == ["from a lazy import"]


async def test_a_blocking_validator_does_not_stall_other_conversations(patient_chat: Chat, tmp_path: Path) -> None:
    chat = patient_chat
    await chat.say("ana", "/survey")
    async with _gate(tmp_path) as gate:
        slow = asyncio.create_task(chat.texts("ana", "slowcolor", gate=str(gate)))
        await _started(gate)  # the validator's thread now blocks until the gate opens
        assert await chat.texts("bo", "hello") == ["Hello!"]
        assert not slow.done()
    assert await slow == ["We don't make shoes in slowcolor.", "Which color?"]


async def test_a_reminders_flow_sees_the_reminder_as_the_latest_message(chat: Chat) -> None:
    await chat.say("ana", "/remind", **{"in": 0.3})

    async def fired() -> bool:
        return "Reminder stretch!" in [e.get("text") for e in await chat.events("ana", "bot")]

    await _wait_for(fired)  # the reminded action read the note from tracker.get_latest_entity_values
    [fired_event] = [e for e in await chat.events("ana", "reminder") if e["status"] == "fired"]
    assert fired_event["entities"] == {"note": "stretch"}


async def test_a_failing_reminder_is_dropped_and_does_not_hold_up_others(tmp_path: Path) -> None:
    from bots.reminders import ReminderScheduler

    async with (
        open_runtime(action_config(tmp_path, "in_process")) as runtime,
        TestClient(TestServer(create_app(runtime))) as client,
    ):
        chat = Chat(runtime, client)
        await chat.say("ana", "/remind", **{"in": 3600})
        await chat.say("bo", "/remind", **{"in": 3600})
        store = runtime.store
        for sender, broken in (("ana", True), ("bo", False)):
            thread_id = await chat.thread(sender)
            snapshot = await store.load(thread_id)
            assert snapshot is not None
            state = dict(snapshot.state)
            reminder = {**state["reminders"][0], "due": time.time() - 1}
            if broken:
                del reminder["intent"]  # a state no current code writes (an older version's, say)
            state["reminders"], state["wake_at"] = [reminder], reminder["due"]
            await store.commit(
                thread_id, state, [], expected_version=snapshot.version, now=time.time(), wake_at=state["wake_at"]
            )
        scheduler = ReminderScheduler(runtime.threads)
        assert await scheduler.fire_due() == 1  # bo's fired although ana's failed
        [dropped] = [e for e in await chat.events("ana", "reminder") if e["status"] == "dropped"]
        assert "KeyError" in dropped["reason"]
        assert (await chat.state("ana"))["wake_at"] is None
        assert "Reminder stretch!" in [e.get("text") for e in await chat.events("bo", "bot")]
        assert await store.due_threads(now=time.time()) == []


async def test_a_reminder_into_a_tagged_flow_goes_out_with_the_tag_after_the_window(
    messenger_chat: tuple[Chat, Any],
) -> None:
    from bots.server.admin import CHANNELS
    from tests.test_messenger import deliver, envelope, text_event

    chat, graph = messenger_chat
    event = text_event("psid-3", "/remind_tagged", "m3")
    event["timestamp"] = int((time.time() - 24 * 3600 - 5) * 1000)
    assert await deliver(chat.client, envelope(event)) == 200
    await chat.client.app[CHANNELS]["messenger"].idle()

    async def sent() -> bool:
        return len(graph.messages("psid-3")) == 2

    await _wait_for(sent)
    last = graph.sends("psid-3")[-1]
    assert last["messaging_type"] == "MESSAGE_TAG" and last["tag"] == "CONFIRMED_EVENT_UPDATE"


async def test_form_validation_works_once_a_server_down_at_start_comes_up(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/webhook"
    async with (
        open_runtime(action_config(tmp_path, "remote", url)) as runtime,
        TestClient(TestServer(create_app(runtime))) as client,
    ):
        chat = Chat(runtime, client)
        process = await asyncio.to_thread(start_action_server, port, tmp_path / "late.log", ACTION_BOT)
        try:
            assert await chat.texts("ana", "/survey") == ["Which color?"]
            assert await chat.texts("ana", "purple") == ["We don't make shoes in purple.", "Which color?"]
            assert await chat.texts("ana", "red") == ["Color red."]
        finally:
            stop_action_server(process)
