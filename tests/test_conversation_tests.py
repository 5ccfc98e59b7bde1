"""`threadline test` as a user runs it: the demo's conversation tests pass, a failing expectation is shown
with what the bot said, `--json` has a stable shape, a broken test file is located, Rasa stories map."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from bots.flow.model import Bot
from tests.conftest import REPO
from tests.test_cli import threadline

CONFIG = str(REPO / "config.yaml")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One data folder for the module: the first run trains the NLU model, the others reuse it."""
    return {"THREADLINE_DATA_DIR": str(tmp_path_factory.mktemp("convtest-data"))}


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def test_the_demo_conversations_and_the_docs_example_pass(
    tmp_path: Path, data_dir: dict[str, str], demo_bot: Bot
) -> None:
    docs = (REPO / "docs" / "testing.md").read_text(encoding="utf-8")
    example = docs.split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "example.yml").write_text(example, encoding="utf-8")
    demo = str(REPO / "conversations")
    result = threadline("test", demo, str(tmp_path / "example.yml"), "--config", CONFIG, "--json", env=data_dir)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert report["passed"] is True and report["summary"]["failed"] == 0
    assert report["tests"][-1]["name"] == "return a delivered pair that was too small"  # the docs' example ran
    ran = {flow for test in report["tests"] for step in test["steps"] for flow in step["flows"]}
    assert set(demo_bot.flows) - ran == set(), "flows no conversation test runs"
    languages = {step["language"] for test in report["tests"] for step in test["steps"]}
    assert {"en", "de", "zh", "es"} <= languages


FAILING = """
    tests:
      - name: greets in German
        language: de
        steps:
          - user: hallo
            expect:
              text: Guten Tag, wie geht's
              intent: greet
          - button: Does not exist
          - user: never sent
"""


def test_a_failed_expectation_exits_1_and_shows_what_the_bot_said(tmp_path: Path, data_dir: dict[str, str]) -> None:
    path = write(tmp_path, "failing.yml", FAILING)
    result = threadline("test", str(path), "--config", CONFIG, env=data_dir)
    assert result.returncode == 1, result.stderr
    out = result.stdout
    assert "✗ greets in German  (line 2, 2/3 steps)" in out
    assert "✗ step 1 (line 5) user: hallo" in out
    assert 'expected: the reply should contain "Guten Tag, wie geht\'s"' in out
    assert "the bot said (language de, intent greet, flows greet):" in out
    assert "[Bestellung verfolgen | Schuhe finden | Größenberatung | Rücksendung]" in out  # the real reply
    assert "expected: the intent" not in out  # the intent was right
    assert "✗ step 2 (line 9) button: Does not exist" in out
    assert "cannot play it: no button 'Does not exist' in the last replies (offered: 'Bestellung verfolgen'" in out
    assert "never sent" not in out  # the rest of a broken conversation is not played
    assert out.rstrip().endswith("1 tests: 0 passed, 1 failed")


def test_json_report(tmp_path: Path, data_dir: dict[str, str]) -> None:
    path = write(tmp_path, "failing.yml", FAILING)
    result = threadline("test", str(path), "--config", CONFIG, "--json", env=data_dir)
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["passed"] is False
    assert report["summary"] == {"tests": 1, "passed": 0, "failed": 1, "pending": 0}
    (test,) = report["tests"]
    assert (test["name"], test["line"], test["status"], test["not_mapped"]) == ("greets in German", 2, "failed", [])
    first, second = test["steps"]
    assert first["step"] == "user: hallo" and first["line"] == 5 and first["passed"] is False
    assert first["failures"] == ['the reply should contain "Guten Tag, wie geht\'s"']
    assert (first["intent"], first["flows"], first["language"], first["handoff"]) == ("greet", ["greet"], "de", False)
    assert first["replies"][0]["type"] == "text" and first["replies"][0]["quick_replies"]
    rest = first["rest"][0]  # as the REST channel sends it: quick replies travel as Rasa buttons
    assert rest["text"] == first["replies"][0]["text"] and rest["recipient_id"].endswith("greets-in-german")
    assert {"title": "Rücksendung", "payload": "/return_item"} in rest["buttons"]
    assert second["error"].startswith("no button 'Does not exist'")


RESUMED = """
    tests:
      - name: the re-asked question is a response said
        steps:
          - user: I want to return my shoes
          - user: how long does shipping take?
            expect: {response: [shipping_details, resume_question, ask_order_number_return]}
      - name: and a check that it is not said fails
        steps:
          - user: I want to return my shoes
          - user: how long does shipping take?
            expect: {not_response: ask_order_number_return}
"""


def test_a_question_asked_again_after_the_resume_line_counts_as_its_response(
    tmp_path: Path, data_dir: dict[str, str]
) -> None:
    """ "Back to your question: <prompt>" is one text; ``response:`` sees both parts, so ``not_response:`` can fail."""
    path = write(tmp_path, "resumed.yml", RESUMED)
    result = threadline("test", str(path), "--config", CONFIG, "--json", env=data_dir)
    report = json.loads(result.stdout)
    seen, unseen = report["tests"]
    assert seen["status"] == "passed", seen
    assert unseen["status"] == "failed"
    assert unseen["steps"][1]["failures"] == ["the bot should not say its response 'ask_order_number_return'"]
    assert result.returncode == 1


def test_pending_tests_may_fail_and_one_that_passes_fails_the_run(tmp_path: Path, data_dir: dict[str, str]) -> None:
    path = write(
        tmp_path,
        "pending.yml",
        """
        tests:
          - name: still broken
            pending: issue 99, not done
            steps:
              - user: hello
                expect: {response: goodbye}
          - name: fixed meanwhile
            pending: issue 98
            steps:
              - user: hello
                expect: {response: greet}
        """,
    )
    result = threadline("test", str(path), "--config", CONFIG, env=data_dir)
    assert result.returncode == 1, result.stderr
    out = result.stdout
    assert "  ~ still broken  (line 2, 1 steps)\n    pending: issue 99, not done\n" in out
    assert "expected: the bot should say its response 'goodbye' (in en)" in out
    assert "  ! fixed meanwhile  (line 7, 1 steps)\n    passes now, though pending (issue 98): remove 'pending'" in out
    assert out.rstrip().endswith("2 tests: 0 passed, 1 failed, 1 pending")


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (
            """
            tests:
              - name: two things at once
                steps:
                  - user: hi
                    button: Returns
            """,
            "broken.yml:4:9: error TEST-E001: tests.0.steps.0: a step needs exactly one of user, button, payload, "
            "event, switch (found: user, button)",
        ),
        (
            """
            tests:
              - name: a typo
                steps:
                  - user: hi
                    expect: {intnet: greet}
            """,
            "broken.yml:5:18: error TEST-E001: unknown key 'intnet' in tests.0.steps.0.expect (did you mean 'intent'?)",
        ),
        (
            """
            tests:
              - name: names the bot does not have
                steps:
                  - user: hi
                    expect: {flow: gret, slots: {colour: red}}
            """,
            "broken.yml:4:9: error TEST-E001: the bot has no flow 'gret'",
        ),
        (
            """
            tests:
              - name: an unquoted yes
                steps:
                  - user: yes
            """,
            "broken.yml:4:9: error TEST-E001: tests.0.steps.0.user: Input should be a valid string (YAML reads yes, "
            "no, on, off, true and false unquoted as true or false",
        ),
        ("tests: [unclosed\n", "broken.yml:2:1: error"),
        ("flows: {}\n", "broken.yml:1:1: error TEST-E001: a test file has 'tests:' (or Rasa's 'stories:')"),
        ("tests: []\n", "threadline: no tests in broken.yml"),
    ],
)
def test_a_broken_test_file_exits_2_with_file_and_line(tmp_path: Path, text: str, where: str) -> None:
    path = write(tmp_path, "broken.yml", text)
    result = threadline("test", str(path), "--config", CONFIG, cwd=tmp_path, env={"THREADLINE_DATA_DIR": "unused"})
    assert result.returncode == 2, result.stdout
    assert where in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "unused").exists()  # nothing trained or opened for a broken file


def test_missing_paths_exit_2(tmp_path: Path) -> None:
    result = threadline("test", str(tmp_path / "nowhere"), "--config", CONFIG)
    assert result.returncode == 2
    assert "nowhere: no such file or folder" in result.stderr


def test_rasa_end_to_end_stories_run_where_they_map(tmp_path: Path, data_dir: dict[str, str]) -> None:
    write(
        tmp_path,
        "test_stories.yml",
        """
        stories:
          - story: track a shipped order
            steps:
              - user: |
                  hello
                intent: greet
              - action: utter_greet
              - user: where is my order?
                intent: order_status
              - action: utter_ask_order_number
              - active_loop: order_form
              - user: ST-123456
              - action: lookup_order
              - slot_was_set:
                  - order_found: true
                  - order_state: shipped
              - action: utter_order_shipped
              - action: utter_no_such_response
          - story: a wrong expectation fails
            steps:
              - intent: thanks
              - bot: Something else entirely
        """,
    )
    result = threadline("test", str(tmp_path), "--config", CONFIG, env=data_dir)
    assert result.returncode == 1, result.stderr
    out = result.stdout
    assert "✓ track a shipped order" in out
    assert "not mapped: line 11: active_loop: order_form: no counterpart in a conversation test" in out
    assert "not mapped: line 18: action: utter_no_such_response: the bot has no response" in out
    assert "✗ a wrong expectation fails  (line 19, 1 steps)" in out
    assert "✗ step 1 (line 21) user: /thanks" in out
    assert "expected: a reply should match /^Something\\ else\\ entirely$/" in out
    assert out.rstrip().endswith("2 tests: 1 passed, 1 failed (2 Rasa story steps not mapped)")


def test_rasa_stories_send_annotated_text_plain_check_its_entities_and_map_forms(
    tmp_path: Path, data_dir: dict[str, str]
) -> None:
    write(
        tmp_path,
        "test_stories.yml",
        """
        stories:
          - story: entities and a form
            steps:
              - user: |
                  where is my order [ST-123456](order_number)?
                intent: order_status
              - action: utter_order_shipped
              - user: |
                  open a ticket
              - action: support_form
              - user: |
                  Low
              - user: |
                  [anna@example.com]{"entity": "email", "value": "anna@example.com"}
              - action: utter_ask_callback_date
          - story: an entity the NLU does not find, a form that does not run
            steps:
              - user: |
                  [hello](order_number)
              - action: support_form
        """,
    )
    result = threadline("test", str(tmp_path), "--config", CONFIG, env=data_dir)
    assert result.returncode == 1, result.stderr
    out = result.stdout
    assert "✓ entities and a form" in out
    assert "✗ step 1 (line 18) user: hello\n" in out  # sent as the customer types it
    assert "expected: the NLU should find the entity order_number='hello' (found: none)" in out
    assert "expected: flow 'support_ticket' should run" in out
    assert "not mapped" not in out
    assert "Skipping validation" not in result.stderr + out  # rasa-sdk's note on every form slot
