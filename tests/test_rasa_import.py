"""`threadline import rasa` as a user runs it on the two public Rasa projects (read where they are, never copied:
one is GPL): the bot folder validates, the report points at real Rasa lines, and conversations run through
the projects' own unmodified actions, in process."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.shared_data import RASA_PROJECTS
from tests.test_cli import threadline

PROJECTS = RASA_PROJECTS
INSURANCE, FINANCIAL = PROJECTS / "insurance-demo", PROJECTS / "financial-demo"
pytestmark = pytest.mark.skipif(not INSURANCE.is_dir(), reason="the Rasa projects are not on this machine")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One data folder for the module: the first conversation trains the NLU model, the others reuse it."""
    return {"THREADLINE_DATA_DIR": str(tmp_path_factory.mktemp("rasa-import-data")), "PYTHONPATH": str(REPO)}


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("imported")
    for project in (INSURANCE, FINANCIAL):
        result = threadline("import", "rasa", str(project), "--out", str(out / project.name), cwd=out, env=env)
        assert result.returncode == 0, result.stderr
        assert "not converted" in result.stdout and "IMPORT_REPORT.md" in result.stdout
    return {"insurance": out / INSURANCE.name, "financial": out / FINANCIAL.name}


def test_every_report_entry_points_at_the_rasa_line_it_names(imported: dict[str, Path]) -> None:
    for name, project in (("insurance", INSURANCE), ("financial", FINANCIAL)):
        report = (imported[name] / "IMPORT_REPORT.md").read_text(encoding="utf-8")
        entries = re.findall(r"^- `([^`:]+):(\d+)` (.+)$", report, re.MULTILINE)
        assert len(entries) > 10
        for file, line, _ in entries:
            lines = (project / file).read_text(encoding="utf-8").splitlines()
            assert 1 <= int(line) <= len(lines), (file, line)
    report = (imported["insurance"] / "IMPORT_REPORT.md").read_text(encoding="utf-8")
    line = int(re.search(r"`data/rules\.yml:(\d+)` rule 'Exit Quote Form'", report)[1])  # type: ignore[index]
    assert (INSURANCE / "data/rules.yml").read_text().splitlines()[line - 1] == "- rule: Exit Quote Form"
    assert "config.yml" in report and "pipeline" in report  # Rasa's pipeline is named, not dropped
    # a form question its action_ask_ action asks is converted, not listed; a button whose payload key is
    # misspelt in the domain is listed
    assert "scroll_claims_form" not in report
    assert "ask_action: action_ask_scroll_claims" in (imported["insurance"] / "bot" / "bot.yml").read_text()
    assert "response utter_ask_update_address, variant 1, button 1" in report


def test_the_imported_insurance_bot_validates_with_its_actions_in_process(
    imported: dict[str, Path], env: dict[str, str]
) -> None:
    bot = imported["insurance"] / "bot"
    assert (bot / "actions").resolve() == (INSURANCE / "actions").resolve()  # linked, never copied
    result = threadline("validate", "--config", "../config.yaml", cwd=bot, env=env)
    assert result.returncode == 0, result.stderr
    assert " 0 errors" not in result.stdout and "OK" in result.stdout
    assert "validate_quote_form" not in result.stderr


def test_the_imported_financial_bot_validates(imported: dict[str, Path], env: dict[str, str]) -> None:
    """Checked against an action server that is not running, so the bot's own files are what is judged."""
    config = imported["financial"] / "config.yaml"
    remote = config.read_text().replace("mode: in_process", "mode: remote")
    remote = re.sub(r"url: .*", "url: http://127.0.0.1:9/webhook", remote)
    (imported["financial"] / "remote.yaml").write_text(remote)
    result = threadline("validate", "--config", "../remote.yaml", cwd=imported["financial"] / "bot", env=env)
    assert result.returncode == 0, result.stderr
    assert "BOT-W004" in result.stdout  # the server was asked, and said to be unreachable


def test_the_imported_financial_bot_validates_with_its_actions_in_process(
    imported: dict[str, Path], env: dict[str, str]
) -> None:
    result = threadline("validate", "--config", "../config.yaml", cwd=imported["financial"] / "bot", env=env)
    assert result.returncode == 0, result.stderr


def test_the_insurance_demos_own_test_stories_run(imported: dict[str, Path], env: dict[str, str]) -> None:
    stories = str(INSURANCE / "tests" / "test_stories.yml")
    result = threadline(
        "test", stories, "--config", "../config.yaml", "--json", cwd=imported["insurance"] / "bot", env=env
    )
    report = json.loads(result.stdout)
    outcome = {test["name"]: test["status"] == "passed" for test in report["tests"]}
    assert len(outcome) == 6
    # including the story whose yes/no question is asked by an action (action_ask_verify_address)
    assert all(outcome.values()), [name for name, passed in outcome.items() if not passed]


CONVERSATIONS = """
    tests:
      - name: a quote, with answers the form's validation action refuses
        steps:
          - user: i need insurance
            expect: {flow: quote_form, response: utter_ask_quote_form_AA_quote_insurance_type}
          - button: Home
            expect: {slots: {AA_quote_insurance_type: home}, response: utter_ask_quote_form_quote_number_persons}
          - user: lots of people
            expect: {text: You must answer with a number., response: utter_ask_quote_form_quote_number_persons}
          - user: "2"
            expect: {slots: {quote_number_persons: "2"}, response: utter_ask_quote_form_quote_state}
          - user: Narnia
            expect: {text: is invalid. Please provide a valid state., response: utter_ask_quote_form_quote_state}
          - user: Montana
            expect:
              actions: [action_get_quote]
              text: "Insurance Type: Home"
              response: utter_anything_else
          - user: "no"
            expect: {response: utter_goodbye, slots: {quote_state: null}}
      - name: a claim's status in the middle of a quote, then back to the quote
        steps:
          - user: i need insurance
            expect: {flow: quote_form}
          - user: what is the status of my claim?
            expect: {flow: claim_status, response: utter_ask_knows_claim_id}
          - user: "yes"
            expect: {flow: get_claim_form, response: utter_ask_get_claim_form_claim_id}
"""


def test_multi_turn_conversations_run_through_the_real_actions(
    imported: dict[str, Path], env: dict[str, str], tmp_path: Path
) -> None:
    tests = tmp_path / "insurance.yml"
    tests.write_text(textwrap.dedent(CONVERSATIONS).lstrip(), encoding="utf-8")
    result = threadline("test", str(tests), "--config", "../config.yaml", cwd=imported["insurance"] / "bot", env=env)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "2 tests: 2 passed" in result.stdout


SMALL_PROJECT = {
    "config.yml": "language: de\npipeline:\n- name: FallbackClassifier\n  threshold: 0.55\n",
    "domain.yml": """
        version: "3.1"
        intents: [greet, order, affirm, deny, ask_price]
        entities:
        - city:
            roles: [from, to]
        slots:
          size:
            type: float
            min_value: 30
            max_value: 50
            mappings: [{type: from_entity, entity: size}]
          colour:
            type: categorical
            values: [rot, blau]
            mappings: [{type: from_entity, entity: colour}, {type: custom, action: action_guess}]
          vip:
            type: bool
            mappings: [{type: custom}]
          name:
            type: text
            mappings: [{type: custom}]
        forms:
          order_form:
            required_slots: [size, colour]
        responses:
          utter_greet:
          - text: Hallo!
          - text: Hallo, willkommen!
          - text: Hi from Messenger
            channel: facebook
          - text: "Hallo {name}"
            condition: [{type: slot, name: vip, value: true}]
          - text: Hallo Gast
            condition: [{type: slot, name: guest, value: true}]
          - text: Hallo Slack
            channel: slack
          utter_ask_size:
          - text: Welche Größe?
          utter_ask_colour:
          - text: Welche Farbe?
            buttons:
            - {title: Rot, payload: '/inform{{"colour": "rot"}}'}
            - {title: Blau, payload: '/inform{{"colour": "blau"}}'}
          utter_price:
          - text: Das kostet 50 Euro.
            image: https://shop.example/preis.png
          utter_card:
          - custom: {blocks: [1, 2]}
          utter_sure:
          - text: Sicher?
            buttons:
            - {title: Ja, payload: /affirm}
            - {title: Nein, payload: /deny}
          utter_done:
          - text: Erledigt.
          utter_bye:
          - text: Tschüss.
    """,
    "data/nlu.yml": """
        version: "3.1"
        nlu:
        - intent: greet
          examples: |
            - hallo
            - guten tag
        - intent: order
          examples: |
            - ich möchte [rote](colour:rot) oder [blaue](colour:blau) Schuhe bestellen
            - bestellen in [Größe 42](size)
            - von [Berlin]{"entity": "city", "role": "from"} nach [Hamburg]{"entity": "city", "role": "to"}
        - intent: affirm
          examples: |
            - ja
            - genau
        - intent: deny
          examples: |
            - nein
            - lieber nicht
        - intent: ask_price
          examples: |
            - was kostet das
            - wie teuer
        - synonym: blau
          examples: |
            - himmelblau
        - regex: zip
          examples: |
            - \\d{5}
        - lookup: colour
          examples: |
            - grün
    """,
    "data/stories.yml": """
        version: "3.1"
        stories:
        - story: greet first
          steps:
          - or:
            - intent: greet
          - action: utter_greet
          - checkpoint: greeted
        - story: then order
          steps:
          - checkpoint: greeted
          - intent: order
          - action: order_form
          - active_loop: order_form
          - active_loop: null
          - action: utter_sure
          - intent: affirm
          - action: utter_done
        - story: order, then no
          steps:
          - intent: order
          - action: order_form
          - active_loop: order_form
          - active_loop: null
          - action: utter_sure
          - intent: deny
          - action: utter_bye
        - story: price
          steps:
          - intent: ask_price
          - action: utter_price
          - action: utter_card
    """,
}


def test_every_kind_of_rasa_content_is_converted_or_reported(tmp_path: Path, env: dict[str, str]) -> None:
    project = tmp_path / "shoes"
    for name, text in SMALL_PROJECT.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    result = threadline("import", "rasa", str(project), cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "shoes-threadline"  # the default --out: beside the project
    checked = threadline("validate", "--config", "../config.yaml", cwd=out / "bot", env=env)
    assert checked.returncode == 0, checked.stderr
    assert "error" not in checked.stderr

    report = (out / "IMPORT_REPORT.md").read_text(encoding="utf-8")
    for expected in (
        "`domain.yml:34` response utter_greet, variant 5: its condition reads guest, which the domain has no slot",
        "`domain.yml:36` response utter_greet, variant 6: a variant for channel 'slack', which Threadline has no",
        "`domain.yml:4` entity city: roles and groups",
        "`data/nlu.yml:11` entity city with role 'from'",
        "`data/nlu.yml:11` entity city with role 'to'",
        "`data/nlu.yml:27` regex zip: it names no entity",
        "slot colour: mapping of type custom (in form order_form)",
    ):
        assert expected in report, expected
    assert "  domain.yml:36: response utter_greet, variant 6" in result.stdout  # stdout names the same places

    import yaml

    bot = yaml.safe_load((out / "bot" / "bot.yml").read_text(encoding="utf-8"))
    texts = yaml.safe_load((out / "bot" / "texts_de.yml").read_text(encoding="utf-8"))
    config = yaml.safe_load((out / "config.yaml").read_text(encoding="utf-8"))
    assert config["languages"] == ["de"] and bot["settings"]["nlu_threshold"] == 0.55
    assert texts["responses"]["utter_greet"] == [  # a channel's own variant, and one under a slot's condition
        "Hallo!",
        "Hallo, willkommen!",
        {"text": "Hi from Messenger", "channel": "messenger"},
        {"text": "Hallo {name}", "if": "vip == True"},
    ]
    assert texts["responses"]["utter_card"] == {"custom": {"blocks": [1, 2]}}
    assert texts["responses"]["utter_price"] == {
        "text": "Das kostet 50 Euro.",
        "image": "https://shop.example/preis.png",
    }
    assert texts["responses"]["utter_sure"]["buttons"] == [
        {"title": "Ja", "payload": "/affirm"},
        {"title": "Nein", "payload": "/deny"},
    ]
    assert bot["slots"]["size"] == {"type": "number", "min": 30, "max": 50}
    assert bot["slots"]["colour"] == {"type": "choice", "values": ["rot", "blau"]}
    assert bot["entities"]["colour"]["lookup"] == [{"rot": ["rote"]}, {"blau": ["blaue", "himmelblau"]}, "grün"]
    assert "1 synonyms" in report and "- `data/nlu.yml:24` synonym" not in report  # it found its entity
    greet = bot["flows"]["greet"]
    assert greet["steps"] == [{"say": "utter_greet"}]  # `or` of one intent, and the checkpoint joined
    form = bot["flows"]["order_form"]
    assert form["form"] == "order_form" and form["trigger"]["intents"] == ["order"]
    assert [s.get("ask") for s in form["steps"][:2]] == ["size", "colour"]
    assert form["steps"][1]["choices"] == [
        {"title": {"de": "Rot"}, "value": "rot"},
        {"title": {"de": "Blau"}, "value": "blau"},
    ]
    sure, branch = form["steps"][2], form["steps"][3]  # the stories go on by the answer to utter_sure
    assert sure["prompt"] == "utter_sure" and {m["intent"] for m in sure["mappings"]} == {"affirm", "deny"}
    assert branch["then"] == [{"say": "utter_done"}] and branch["elif"][0]["then"] == [{"say": "utter_bye"}]
    assert bot["flows"]["ask_price"]["steps"] == [{"say": "utter_price"}, {"say": "utter_card"}]


def test_yes_and_no_are_words_in_a_rasa_project_as_in_yaml_1_2(imported: dict[str, Path]) -> None:
    import yaml

    bot = yaml.safe_load((imported["financial"] / "bot" / "bot.yml").read_text(encoding="utf-8"))
    ask = bot["flows"]["cc_payment_form"]["steps"][0]
    assert ask["ask"] == "AA_CONTINUE_FORM"
    assert {m["intent"]: m["value"] for m in ask["mappings"] if m["type"] == "from_intent"} == {
        "affirm": "yes",
        "deny": "no",
    }


def test_a_folder_that_is_no_rasa_project_or_a_broken_file_is_a_clear_error(
    tmp_path: Path, env: dict[str, str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = threadline("import", "rasa", str(empty), cwd=tmp_path, env=env)
    assert result.returncode == 2 and "no domain.yml or domain/ folder" in result.stderr
    assert "Traceback" not in result.stderr

    broken = tmp_path / "broken"
    (broken / "data").mkdir(parents=True)
    (broken / "domain.yml").write_text("version: '3.1'\nintents: [greet]\n", encoding="utf-8")
    (broken / "data" / "nlu.yml").write_text("nlu:\n- intent: greet\n  examples: [hi\n", encoding="utf-8")
    result = threadline("import", "rasa", str(broken), cwd=tmp_path, env=env)
    assert result.returncode == 2 and "data/nlu.yml:4:1: invalid YAML" in result.stderr, result.stderr

    (broken / "data" / "nlu.yml").write_text("nlu:\n- intent: greet\n  examples: |\n    - hi\n", encoding="utf-8")
    assert threadline("import", "rasa", str(broken), cwd=tmp_path, env=env).returncode == 0
    again = threadline("import", "rasa", str(broken), cwd=tmp_path, env=env)
    assert again.returncode == 2 and "already exists and is not empty" in again.stderr  # nothing is overwritten
