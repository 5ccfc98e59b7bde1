"""A small Rasa project's form through `threadline import rasa` and `threadline test`: its FormValidationAction
runs as the form starts (its extract_<slot> fills a slot, so that question is never asked), and a question
asked by an ``action_ask_<slot>`` action waits for its answer."""

from __future__ import annotations

import textwrap
from pathlib import Path

import yaml

from tests.conftest import REPO
from tests.test_cli import threadline

PROJECT = {
    "config.yml": "language: en\n",
    "domain.yml": """
        version: "3.1"
        intents: [order, affirm, deny, inform]
        slots:
          go_on:
            type: any
            mappings:
            - {type: from_intent, intent: affirm, value: "yes"}
          size:
            type: text
            mappings:
            - type: from_text
              conditions: [{active_loop: order_form, requested_slot: size}]
        forms:
          order_form:
            required_slots: [go_on, size]
        responses:
          utter_ask_go_on:
          - text: Shall we go on?
          utter_done:
          - text: Size {size} is on its way.
        actions: [validate_order_form, action_ask_size]
    """,
    "data/nlu.yml": """
        version: "3.1"
        nlu:
        - intent: order
          examples: |
            - i want to order a shirt
            - order a shirt please
            - can i buy a shirt
            - i would like a shirt
        - intent: affirm
          examples: |
            - yes
            - sure
            - of course
        - intent: deny
          examples: |
            - no
            - never
            - no thanks
        - intent: inform
          examples: |
            - medium
            - large please
            - small
    """,
    "data/stories.yml": """
        version: "3.1"
        stories:
        - story: order a shirt
          steps:
          - intent: order
          - action: order_form
          - active_loop: order_form
          - active_loop: null
          - action: utter_done
    """,
    "actions/__init__.py": "",
    "actions/actions.py": """
        from typing import Any

        from rasa_sdk import Action, FormValidationAction, Tracker
        from rasa_sdk.executor import CollectingDispatcher


        class ValidateOrderForm(FormValidationAction):
            def name(self) -> str:
                return "validate_order_form"

            async def extract_go_on(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> dict:
                return {"go_on": tracker.get_slot("go_on") or "yes"}  # filled as the form starts: never asked

            def validate_size(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict):
                size = str(value).split()[0].upper()[:1]
                if size in ("S", "M", "L"):
                    return {"size": size}
                dispatcher.utter_message(text=f"We have no size {value}.")
                return {"size": None}


        class AskSize(Action):
            def name(self) -> str:
                return "action_ask_size"

            def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
                form = tracker.active_loop.get("name")
                dispatcher.utter_message(text=f"Which {tracker.get_slot('requested_slot')} ({form}): S, M or L?")
                return []
    """,
}

CONVERSATION = """
    tests:
      - name: the form starts validated and an action asks its question
        steps:
          - user: i want to order a shirt
            expect: {flow: order_form, text: "Which size (order_form): S, M or L?", slots: {go_on: "yes"}}
          - user: purple
            expect: {text: "We have no size purple."}
          - user: large please
            expect: {slots: {size: L}, text: Size L is on its way.}
"""


def _imported(tmp_path: Path, files: dict[str, str]) -> Path:
    """The project written, imported, and its conversation run through ``threadline test``: the bot folder's parent."""
    project = tmp_path / "shop"
    for name, text in files.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    env = {"THREADLINE_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(REPO)}
    out = tmp_path / "imported"
    result = threadline("import", "rasa", str(project), "--out", str(out), cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    tests = tmp_path / "conversation.yml"
    tests.write_text(textwrap.dedent(CONVERSATION).lstrip(), encoding="utf-8")
    result = threadline("test", str(tests), "--config", "../config.yaml", cwd=out / "bot", env=env)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "1 tests: 1 passed" in result.stdout or "1 test: 1 passed" in result.stdout
    return out


def test_a_form_validated_at_its_start_with_a_question_an_action_asks(tmp_path: Path) -> None:
    out = _imported(tmp_path, PROJECT)
    assert "action_ask_size" not in (out / "IMPORT_REPORT.md").read_text(encoding="utf-8")


SUBMIT_RULES = """
    version: "3.1"
    rules:
    - rule: start the order
      steps:
      - intent: order
      - action: order_form
      - active_loop: order_form
    - rule: submit the order of a returning customer
      condition:
      - active_loop: order_form
      - slot_was_set:
        - go_on: "yes"
      steps:
      - action: order_form
      - active_loop: null
      - slot_was_set:
        - requested_slot: null
      - action: utter_done
    - rule: submit any other order
      condition:
      - active_loop: order_form
      steps:
      - action: order_form
      - active_loop: null
      - action: utter_other
"""


def test_rules_that_submit_a_form_end_its_flow(tmp_path: Path) -> None:
    """Rasa's "submit the form" rules (the form active, maybe a slot's value) are what the form's flow does last:
    one ``if`` per slot condition, the rule without one its ``else``."""
    files = {**PROJECT, "data/stories.yml": SUBMIT_RULES}
    files["domain.yml"] = (
        files["domain.yml"]
        .replace(
            "          utter_done:", "          utter_other:\n          - text: Another order.\n          utter_done:"
        )
        .replace(
            "go_on:\n            type: any", 'go_on:\n            type: categorical\n            values: ["yes", "no"]'
        )
    )
    assert "categorical" in files["domain.yml"]  # a value test: only a categorical or bool slot's value counts
    out = _imported(tmp_path, files)  # its conversation ends with the returning customer's submit
    assert "submit" not in (out / "IMPORT_REPORT.md").read_text(encoding="utf-8")
    bot = yaml.safe_load((out / "bot" / "bot.yml").read_text(encoding="utf-8"))
    assert bot["flows"]["order_form"]["steps"][-1] == {
        "if": 'go_on == "yes"',
        "then": [{"say": "utter_done"}],
        "else": [{"say": "utter_other"}],
    }
