"""`threadline validate` on bot folders with mistakes: every mistake shows, each with a "did you mean" if one fits."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import BASE_FILES, write_bot
from tests.test_cli import threadline


def errors_of(bot: Path, tmp_path: Path) -> list[str]:
    """What `threadline validate` prints on stderr (the errors and the count) for a bot in English and German."""
    config = tmp_path / "config.yaml"
    config.write_text("languages: [en, de]\n")
    result = threadline("validate", str(bot), "--config", str(config))
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    return result.stderr.strip().splitlines()


def test_a_wrong_type_in_one_step_hides_no_other_mistake_of_its_flow(tmp_path: Path) -> None:
    bot = write_bot(
        tmp_path / "bot",
        {
            **BASE_FILES,
            "order.yml": """
        flows:
          order:
            trigger: {intents: [greet], payloads: 5}
            steps:
              - typing: fast
              - say: hello
                colour: red
              - say: no_such_text
              - id: again
                ask: size
                prompt: ask_size
                max_attempts: many
              - if: "size > 40"
                then:
                  - goto: 7
                  - say: also_missing
              - goto: order.again
          other:
            steps:
              - say: thanks
              - say: broken_text
              - goto: order.again
    """,
            "more_texts.yml": """
        responses:
          thanks: {en: "Thanks!"}
          broken_text: {en: {a: 1}}
    """,
        },
    )
    assert errors_of(bot, tmp_path) == [
        "bot/more_texts.yml:3:22: error BOT-E010: unknown key 'a' in responses.broken_text.en",
        "bot/order.yml:3:33: error BOT-E010: flows.order.trigger.payloads: Input should be a valid list",
        "bot/order.yml:5:9: error BOT-E010: flows.order.steps.0.typing: Input should be a valid number, "
        "unable to parse string as a number",
        "bot/order.yml:7:9: error BOT-E010: unknown key 'colour' in flows.order.steps.1",
        "bot/order.yml:8:14: error FLOW-E001: flow 'order': unknown text 'no_such_text' (define it under responses:)",
        "bot/order.yml:12:9: error BOT-E010: flows.order.steps.3.max_attempts: Input should be a valid integer, "
        "unable to parse string as an integer",
        "bot/order.yml:15:13: error BOT-E010: flows.order.steps.4.then.0.goto: Input should be a valid string",
        "bot/order.yml:16:18: error FLOW-E001: flow 'order': unknown text 'also_missing' (define it under responses:)",
        "bot: 8 errors, 1 warning",
    ]  # "goto: order.again" finds the broken step's id, the step after the broken goto is not called unreachable,
    # and neither the broken text nor the good one beside it is called unknown


def test_misspelt_keys_and_names_get_a_did_you_mean(tmp_path: Path) -> None:
    bot = write_bot(
        tmp_path / "bot",
        {
            **BASE_FILES,
            "settings.yml": """
        settings:
          fallback_flow: fallbak
          cancel: {intents: [goodby]}
    """,
            "typos.yml": """
        entitis: {}
        slots:
          colour: {type: numbr}
        flows:
          typos:
            trigger: {intents: [gret]}
            steps:
              - sya: hello
              - say: helo
                qick_replies: [{title: {en: Yes}, payload: /yes}]
              - ask: sise
                prompt: ask_size
              - say: hello
                buttons: [{title: {en: Chat}, continue_in: mesenger}]
              - action: lookup_ordr
              - if: "sise > 40 and lenn(name) > 1"
                then: [{goto: fallbak}]
              - goto: menu.strat
          menu:
            steps:
              - id: start
                say: ask_size
    """,
            "actions.py": """
        from rasa_sdk import Action

        class LookupOrder(Action):
            def name(self):
                return "lookup_order"

            async def run(self, dispatcher, tracker, domain):
                return []
    """,
        },
    )
    assert errors_of(bot, tmp_path) == [
        "bot/settings.yml:2:18: error BOT-E008: fallback_flow 'fallbak' is not a flow (did you mean 'fallback'?)",
        "bot/settings.yml:3:22: error FLOW-E008: cancel intent 'goodby' has no training examples (add them under "
        "nlu:) (did you mean 'goodbye'?)",
        "bot/typos.yml:1:1: error BOT-E010: unknown key 'entitis' in the file (sections: version, language, "
        "settings, flows, slots, responses, nlu, entities) (did you mean 'entities'?)",
        "bot/typos.yml:3:12: error BOT-E010: slots.colour.type: Input should be 'text', 'number', 'email', "
        "'phone', 'date', 'time', 'money', 'choice', 'regex', 'bool' or 'any' (did you mean 'number'?)",
        "bot/typos.yml:6:24: error FLOW-E008: flow 'typos': intent 'gret' has no training examples (add them "
        "under nlu:) (did you mean 'greet'?)",
        "bot/typos.yml:8:9: error BOT-E010: flows.typos.steps.0: not a step: a step is a mapping with one of "
        "the keys say, ask, image, video, gif, carousel, typing, set, if, goto, action, handoff, end, "
        "opt_out (did you mean 'say'?)",
        "bot/typos.yml:9:14: error FLOW-E001: flow 'typos': unknown text 'helo' (define it under responses:) "
        "(did you mean 'hello'?)",
        "bot/typos.yml:10:9: error BOT-E010: unknown key 'qick_replies' in flows.typos.steps.1 (did you mean "
        "'quick_replies'?)",
        "bot/typos.yml:11:14: error FLOW-E003: flow 'typos': unknown slot 'sise' (declare it under slots:) "
        "(did you mean 'size'?)",
        "bot/typos.yml:14:39: error BOT-E010: flows.typos.steps.3.buttons.0.continue_in: no channel "
        "'mesenger' to continue in (channels: rest, web, messenger, instagram) (did you mean 'messenger'?)",
        "bot/typos.yml:15:17: error FLOW-E009: flow 'typos': unknown action 'lookup_ordr' (available: "
        "lookup_order) (did you mean 'lookup_order'?)",
        "bot/typos.yml:16:13: error FLOW-E003: flow 'typos': unknown name 'sise' (not a slot nor one of "
        "channel, event, fallback_streak, language, public_url, recent, thread) (did you mean 'size'?)",
        "bot/typos.yml:16:13: error FLOW-E011: flow 'typos': unknown function 'lenn' (available: count, "
        "float, hours_since, int, last, len, lower, str, upper) (did you mean 'len'?)",
        "bot/typos.yml:17:23: error FLOW-E004: flow 'typos': goto 'fallbak': no step with that id in this "
        "flow and no flow of that name (did you mean 'fallback'?)",
        "bot/typos.yml:18:15: error FLOW-E004: flow 'typos': flow 'menu' has no step 'strat' (did you mean 'start'?)",
        "bot: 15 errors, 1 warning",
    ]


def test_yaml_inside_the_actions_package_is_its_own_configuration_not_a_bot_file(tmp_path: Path) -> None:
    """A Rasa project's actions read their own YAML (custom_forms_config.yml); the loader must not take it."""
    bot = write_bot(
        tmp_path / "bot",
        {
            **BASE_FILES,
            "actions/__init__.py": "",
            "actions/custom_forms_config.yml": "custom_forms:\n  max_validation_failures: 2\n",
            "actions/settings/hosts.yml": "handoff_hosts: {helpdesk: {url: 'http://localhost:5005'}}\n",
            "extra/more_texts.yml": "responses:\n  extra_text: {en: Extra}\n  broken: 5\n",
        },
    )
    # A folder without __init__.py is still part of the bot: its mistake is reported, and only its.
    assert errors_of(bot, tmp_path) == [
        "bot/extra/more_texts.yml:3:11: error BOT-E010: responses.broken: invalid value (Input should be a valid "
        "string)",
        "bot: 1 error, 1 warning",
    ]
