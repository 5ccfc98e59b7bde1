"""Rasa's sessions through the REST channel: ``action_session_start`` runs at a session's start, as in Rasa.

The action bot (tests/action_bot) is copied with two more actions: a custom
``action_session_start`` that, like the Rasa financial demo's, starts the
session, carries one slot over and greets; and an action that restarts and
asks for ``action_session_start`` as its follow-up (the same demo's
``action_restart``). Run in process and on a real ``python -m rasa_sdk``.
Time passing is the server's clock moved forward, never a wait.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer

from bots.config import Config
from bots.runtime import open_runtime
from bots.server.app import create_app
from tests.action_servers import start_action_server, stop_action_server
from tests.servers import free_port
from tests.test_actions import ACTION_BOT, Chat

SESSION_ACTIONS = """
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, FollowupAction, Restarted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher


class ActionSessionStart(Action):
    def name(self) -> str:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        slots = [e for e in tracker.events if e.get("event") == "slot" and e.get("name") == "color"]
        carried = [SlotSet("color", e["value"]) for e in slots]
        seen = sum(1 for e in tracker.events if e.get("event") == "session_started")
        dispatcher.utter_message(text=f"Session {seen + 1}")
        return [SessionStarted(), *carried[-1:], ActionExecuted("action_listen")]


class RestartThenStart(Action):
    def name(self) -> str:
        return "restart_then_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        return [Restarted(), FollowupAction("action_session_start")]
"""


def _session_bot(root: Path, expiration_minutes: float) -> Path:
    bot = root / "bot"
    shutil.copytree(ACTION_BOT, bot, ignore=shutil.ignore_patterns("__pycache__"))
    (bot / "actions" / "session.py").write_text(SESSION_ACTIONS)
    settings = yaml.safe_load((bot / "bot.yml").read_text())
    settings["settings"]["session_config"] = {"session_expiration_time": expiration_minutes}
    (bot / "bot.yml").write_text(yaml.safe_dump(settings, allow_unicode=True))
    (bot / "session_flows.yml").write_text(
        "flows:\n  restart_session:\n    trigger: {payloads: [/restart_session]}\n"
        "    steps:\n      - action: restart_then_start\n"
    )
    return bot


@pytest.fixture(scope="module")
def session_bot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _session_bot(tmp_path_factory.mktemp("sessions"), expiration_minutes=60)


@pytest.fixture(scope="module")
def session_server(session_bot: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    process = start_action_server(port, tmp_path_factory.mktemp("server") / "server.log", bot=session_bot)
    try:
        yield f"http://127.0.0.1:{port}/webhook"
    finally:
        stop_action_server(process)


class Clock:
    """The server's clock, moved forward by the test."""

    def __init__(self) -> None:
        self.ahead = 0.0

    def __call__(self) -> float:
        return time.time() + self.ahead


@pytest.fixture(params=["in_process", "remote"])
async def chat(request: pytest.FixtureRequest, session_bot: Path, tmp_path: Path) -> AsyncIterator[tuple[Chat, Clock]]:
    url = request.getfixturevalue("session_server") if request.param == "remote" else "http://127.0.0.1:9/webhook"
    config = Config.model_validate(
        {
            "bot": session_bot,
            "languages": ["en", "de"],
            "data_dir": tmp_path / "data",
            "actions": {"mode": request.param, "url": url, "timeout_seconds": 5},
        }
    )
    async with open_runtime(config) as runtime, TestClient(TestServer(create_app(runtime))) as client:
        clock = Clock()
        runtime.pipeline.clock = clock
        yield Chat(runtime, client), clock


async def test_action_session_start_runs_before_the_first_message_and_after_expiry(chat: tuple[Chat, Clock]) -> None:
    talk, clock = chat
    assert await talk.texts("se", "/set_slots") == ["Session 1", "After the action: color=red, count=3."]
    assert await talk.texts("se", "/set_slots") == ["After the action: color=red, count=3."]  # same session
    clock.ahead = 61 * 60  # an hour and a minute of quiet: the session has expired
    [greeting, *_] = await talk.texts("se", "/tracker_slots")
    assert greeting == "Session 2"
    state = await talk.state("se")
    assert state["slots"]["color"] == "red" and state["slots"]["count"] is None  # only what the action carried
    kinds = [e["kind"] for e in await talk.events("se") if e["kind"] in ("session", "user", "action")]
    assert kinds[:3] == ["action", "session", "user"]  # action_session_start, SessionStarted, then the message
    assert [e["name"] for e in await talk.events("se", "action")][0] == "action_session_start"


async def test_a_follow_up_action_after_a_restart_runs_as_in_rasa(chat: tuple[Chat, Clock]) -> None:
    talk, _ = chat
    await talk.say("rs", "/set_slots")
    assert await talk.texts("rs", "/restart_session") == ["Session 2"]
    state = await talk.state("rs")
    assert state["slots"]["color"] == "red" and state["slots"]["count"] is None
    errors = await talk.events("rs", "error")
    assert errors == []


def _plain(root: Path, **session: Any) -> Config:
    bot = root / "bot"
    shutil.copytree(ACTION_BOT, bot, ignore=shutil.ignore_patterns("__pycache__"))
    settings = yaml.safe_load((bot / "bot.yml").read_text())
    settings["settings"]["session_config"] = session
    (bot / "bot.yml").write_text(yaml.safe_dump(settings, allow_unicode=True))
    return Config.model_validate(
        {"bot": bot, "languages": ["en", "de"], "data_dir": root / "data", "actions": {"mode": "in_process"}}
    )


@pytest.mark.parametrize("carry_over", [True, False])
async def test_without_a_custom_action_an_expired_session_ends_the_flows_and_carries_slots_as_configured(
    tmp_path: Path, carry_over: bool
) -> None:
    config = _plain(tmp_path, session_expiration_time=5, carry_over_slots_to_new_session=carry_over)
    async with open_runtime(config) as runtime, TestClient(TestServer(create_app(runtime))) as client:
        clock = Clock()
        runtime.pipeline.clock = clock
        talk = Chat(runtime, client)
        await talk.say("pl", "/set_slots")
        assert await talk.texts("pl", "/pay") == ["How much?"]
        clock.ahead = 6 * 60
        await talk.say("pl", "hello there")
        state = await talk.state("pl")
        assert not any(f["flow"] == "payment" for f in state["stack"])  # the old session's question is gone
        assert state["slots"]["color"] == ("red" if carry_over else None)
        [session] = await talk.events("pl", "session")
        assert session["by"] == "session_expired"
