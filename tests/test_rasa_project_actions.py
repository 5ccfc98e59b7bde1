"""Real Rasa 3.x projects' actions, unchanged: they import and answer the same in process and on an action server.

The projects are read where the shared test material keeps them (never copied
into the repository: one is GPL-licensed). The financial demo's actions read
their own YAML with ``ruamel.yaml.safe_load``, which the ruamel.yaml rasa-sdk
3.21 requires has removed; its database is a SQLite file of the test's own.
The server is plain ``python -m rasa_sdk``: installing Threadline puts a
``.pth`` in the environment that gives ruamel.yaml its safe loaders back when
it is imported (threadline_ruamel_compat.py), so nothing else has to start first.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bots.actions import RASA_SDK_VERSION
from bots.actions.in_process import InProcessActionServer
from tests.action_servers import start_action_server, stop_action_server
from tests.servers import free_port
from tests.shared_data import RASA_PROJECTS

PROJECTS = RASA_PROJECTS
FINANCIAL = PROJECTS / "financial-demo"
INSURANCE = PROJECTS / "insurance-demo"
pytestmark = pytest.mark.skipif(not FINANCIAL.is_dir(), reason="the shared Rasa projects are not on this machine")


def _domain(project: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((project / "domain.yml").read_text())
    return loaded


def _empty_tracker() -> dict[str, Any]:
    if not FINANCIAL.is_dir():  # collected for parameters, then skipped
        return {"slots": {}, "events": []}
    loaded: dict[str, Any] = json.loads((FINANCIAL / "tests" / "data" / "empty_tracker.json").read_text())
    return loaded


def _filling(tracker: dict[str, Any], form: str, slot: str, value: Any, text: str) -> dict[str, Any]:
    """The tracker as Rasa sends it to ``validate_<form>`` after the customer answered ``slot``."""
    tracker = copy.deepcopy(tracker)
    tracker["slots"].update({slot: value, "requested_slot": slot})
    tracker["active_loop"] = {"name": form}
    user = {"event": "user", "text": text, "parse_data": {"intent": {"name": "inform"}, "entities": []}}
    tracker["latest_message"] = {"text": text, "intent": {"name": "inform", "confidence": 1.0}, "entities": []}
    tracker["events"] += [user, {"event": "slot", "name": slot, "value": value}]
    return tracker


def _request(action: str, tracker: dict[str, Any], sender: str = "someone") -> dict[str, Any]:
    return {"next_action": action, "sender_id": sender, "version": RASA_SDK_VERSION, "tracker": tracker}


# Each call and what Rasa's own action server answers to it (timestamps left out, as the actions leave them).
FINANCIAL_CALLS = [
    (
        _request("action_session_start", _empty_tracker()),
        {
            "events": [
                {"event": "session_started"},
                {"event": "slot", "name": "currency", "value": "$"},
                {"event": "action", "name": "action_listen", "policy": None, "confidence": None},
            ],
            "responses": [],
        },
    ),
    (  # a validation failure: no such card
        _request(
            "validate_cc_payment_form", _filling(_empty_tracker(), "cc_payment_form", "credit_card", "gold", "gold")
        ),
        {
            "events": [{"event": "slot", "name": "credit_card", "value": None}],
            "responses": [
                {
                    "text": None,
                    "buttons": [],
                    "elements": [],
                    "custom": {},
                    "template": "utter_no_creditcard",
                    "response": "utter_no_creditcard",
                    "image": None,
                    "attachment": None,
                }
            ],
        },
    ),
]
INSURANCE_CALLS = [
    (
        _request(
            "validate_quote_form",
            _filling(_empty_tracker(), "quote_form", "quote_number_persons", "many", "many"),
        ),
        {
            "events": [{"event": "slot", "name": "quote_number_persons", "value": None}],
            "responses": [
                {
                    "text": "You must answer with a number.",
                    "buttons": [],
                    "elements": [],
                    "custom": {},
                    "template": None,
                    "response": None,
                    "image": None,
                    "attachment": None,
                }
            ],
        },
    ),
]


def _without_timestamps(answer: dict[str, Any]) -> dict[str, Any]:
    return {**answer, "events": [{k: v for k, v in e.items() if k != "timestamp"} for e in answer["events"]]}


@pytest.fixture(scope="module")
def profile_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The financial demo's profile database: a SQLite file of this test run's (its default is one in the cwd)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('financial') / 'profile.db'}"
    previous = os.environ.get("PROFILE_DB_URL")
    os.environ["PROFILE_DB_URL"] = url
    yield url
    if previous is None:
        del os.environ["PROFILE_DB_URL"]
    else:
        os.environ["PROFILE_DB_URL"] = previous


@pytest.mark.parametrize(
    ("project", "calls"), [(FINANCIAL, FINANCIAL_CALLS), (INSURANCE, INSURANCE_CALLS)], ids=["financial", "insurance"]
)
def test_actions_run_in_process(project: Path, calls: list[Any], profile_db: str) -> None:
    server = InProcessActionServer(project, "actions")
    domain = _domain(project)

    async def run() -> list[dict[str, Any]]:
        try:
            return [await server.call(copy.deepcopy(request), domain=domain, digest="") for request, _ in calls]
        finally:
            await server.close()

    answers = asyncio.run(run())
    assert [_without_timestamps(a) for a in answers] == [expected for _, expected in calls]


def _post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        answer: dict[str, Any] = json.loads(response.read())
    return answer


@pytest.mark.parametrize(
    ("project", "calls"), [(FINANCIAL, FINANCIAL_CALLS), (INSURANCE, INSURANCE_CALLS)], ids=["financial", "insurance"]
)
def test_actions_run_on_an_action_server(project: Path, calls: list[Any], profile_db: str, tmp_path: Path) -> None:
    port = free_port()
    process = start_action_server(port, tmp_path / "server.log", project)
    try:
        base = f"http://127.0.0.1:{port}"
        domain = _domain(project)
        answers = [_post(base + "/webhook", {**request, "domain": domain}) for request, _ in calls]
        assert [_without_timestamps(a) for a in answers] == [expected for _, expected in calls]
    finally:
        stop_action_server(process)
