"""Loading bots: good ones load, broken ones report every problem with file, line and column."""

from __future__ import annotations

from collections.abc import Callable

from bots.flow.loader import LoadResult
from bots.flow.model import AskOp, BranchOp, SayOp


def messages(result: LoadResult) -> list[str]:
    """Problems as printed, without the bot folder's name in front of the file name."""
    return [str(p).split("/", 1)[1] for p in result.errors]


def test_base_bot_loads(make_bot: Callable[..., LoadResult]) -> None:
    result = make_bot()
    assert result.errors == []
    bot = result.bot
    assert bot is not None
    assert set(bot.flows) == {"greet", "size", "contact", "fallback"}
    assert bot.intents == ("contact", "goodbye", "greet", "size_help")
    assert bot.responses["hello"] == {"en": ("Hello!",), "de": ("Hallo!",)}
    assert isinstance(bot.flows["size"].ops[0], AskOp)


def test_demo_bot_loads_without_problems(demo_bot) -> None:  # type: ignore[no-untyped-def]
    assert demo_bot.name == "Stride"
    assert set(demo_bot.intents) == {
        "greet",
        "goodbye",
        "thanks",
        "affirm",
        "deny",
        "order_status",
        "cancel_order",
        "return_item",
        "shipping_info",
        "product_search",
        "price_question",
        "buy_product",  # "I'll take the City Glide": the buy button in words
        "size_help",
        "talk_to_human",
        "opt_out",
        "bot_challenge",
        "parcel_not_received",
        "payment_methods",
        "refund_info",
        "out_of_scope",  # a few questions close to a shop's that the demo does not answer (opening hours)
    }
    for language in ("en", "zh", "nl", "fr", "de", "it", "pl", "pt", "ro", "es", "vi"):
        assert len(demo_bot.examples[language]["out_of_scope"]) >= 3, language
        for intent in set(demo_bot.intents) - {"out_of_scope"}:
            examples = demo_bot.examples[language][intent]
            assert len(set(examples)) >= 15, (language, intent)
        missing = [key for key, per in demo_bot.responses.items() if language not in per]
        assert missing == [], (language, missing)


def test_yaml_syntax_error_names_file_line_and_column(make_bot: Callable[..., LoadResult]) -> None:
    result = make_bot({"broken.yml": "flows:\n  a:\n    steps: [say: x\n"})
    assert result.bot is None
    [problem] = result.errors
    assert problem.mark.file.endswith("broken.yml")
    assert problem.code == "BOT-E001"
    assert problem.mark.line == 4
    assert "invalid YAML" in problem.message


def test_duplicate_yaml_key_is_an_error_not_silently_overwritten(make_bot: Callable[..., LoadResult]) -> None:
    result = make_bot({"dup.yml": "responses:\n  x: {en: a}\n  x: {en: b}\n"})
    [problem] = result.errors
    assert (problem.mark.line, problem.mark.column) == (3, 3)
    assert problem.message == "duplicate key 'x' (first defined at line 2)"


def test_unknown_step_type_and_unknown_key_are_reported_together(make_bot: Callable[..., LoadResult]) -> None:
    result = make_bot(
        {
            "bad.yml": """
        flows:
          broken:
            steps:
              - sya: hello
              - say: hello
                colour: red
    """
        }
    )
    found = messages(result)
    assert any(
        "bad.yml:4:9: error BOT-E010: flows.broken.steps.0: not a step: a step is a mapping with one of "
        "the keys say, ask" in m
        for m in found
    ), found
    assert any("bad.yml:6:9: error BOT-E010: unknown key 'colour' in flows.broken.steps.1" in m for m in found), found


def test_references_to_unknown_things(make_bot: Callable[..., LoadResult]) -> None:
    result = make_bot(
        {
            "refs.yml": """
        flows:
          refs:
            trigger: {intents: [no_such_intent]}
            steps:
              - say: no_such_text
              - ask: no_such_slot
                prompt: hello
              - action: no_such_action
              - if: "no_such_name > 1"
                then:
                  - goto: nowhere
    """
        },
        actions=["real_action"],
    )
    found = messages(result)
    expected = [
        "refs.yml:3:24: error FLOW-E008: flow 'refs': intent 'no_such_intent' has no training examples",
        "refs.yml:5:14: error FLOW-E001: flow 'refs': unknown text 'no_such_text' (define it under responses:)",
        "refs.yml:6:14: error FLOW-E003: flow 'refs': unknown slot 'no_such_slot' (declare it under slots:)",
        "refs.yml:8:17: error FLOW-E009: flow 'refs': unknown action 'no_such_action' (available: real_action)",
        "refs.yml:9:13: error FLOW-E003: flow 'refs': unknown name 'no_such_name'",
        "refs.yml:11:19: error FLOW-E004: flow 'refs': goto 'nowhere': no step with that id in this flow and no flow",
    ]
    for line in expected:
        assert any(m.startswith(line) for m in found), (line, found)


def test_missing_default_language_text(make_bot: Callable[..., LoadResult]) -> None:
    result = make_bot(
        {
            "de_only.yml": """
        responses:
          only_de: {de: "Nur Deutsch"}
        flows:
          de:
            steps:
              - say: only_de
              - say: {de: "Inline nur Deutsch"}
    """
        }
    )
    found = messages(result)
    assert any(
        m.startswith("de_only.yml:6:14: error FLOW-E002: flow 'de': text 'only_de' has no 'en' version") for m in found
    ), found
    assert any(
        m.startswith("de_only.yml:7:14: error FLOW-E002: flow 'de': inline text has no 'en' version") for m in found
    ), found


def test_unreachable_steps_and_duplicate_ids(make_bot: Callable[..., LoadResult]) -> None:
    result = make_bot(
        {
            "flow.yml": """
        flows:
          loop:
            steps:
              - id: start
                say: hello
              - goto: greet
              - say: hello
              - id: start
                say: hello
    """
        }
    )
    found = messages(result)
    assert any(m.startswith("flow.yml:7:9: error FLOW-E007: flow 'loop': this step can never run") for m in found), (
        found
    )
    assert any(
        m.startswith("flow.yml:8:13: error FLOW-E005: flow 'loop': duplicate step id 'start' (first used at line 4)")
        for m in found
    ), found


def test_duplicate_flow_across_files_names_both_places(make_bot: Callable[..., LoadResult]) -> None:
    result = make_bot({"more.yml": "flows:\n  greet:\n    steps:\n      - say: hello\n"})
    found = messages(result)
    assert any(
        m.startswith("more.yml:2:3: error BOT-E004: duplicate flow 'greet' (first defined in ")
        and "flows.yml line 2" in m
        for m in found
    ), found


def test_bad_condition_syntax_and_regex(make_bot: Callable[..., LoadResult]) -> None:
    result = make_bot(
        {
            "bad.yml": """
        flows:
          bad:
            trigger: {regex: ["(unclosed"]}
            steps:
              - if: "size >"
                then: [{say: hello}]
    """
        }
    )
    found = messages(result)
    assert any(m.startswith("bad.yml:3:23: error FLOW-E013: flow 'bad': invalid regex trigger") for m in found), found
    assert "bad.yml:5:13: error FLOW-E011: flow 'bad': invalid condition 'size >': invalid syntax" in found, found


def test_all_problems_at_once_across_files(make_bot: Callable[..., LoadResult]) -> None:
    result = make_bot(
        {
            "a.yml": "flows:\n  a:\n    steps:\n      - say: nope_a\n",
            "b.yml": "flows:\n  b:\n    steps:\n      - say: nope_b\n",
            "c.yml": "slots:\n  s: {type: regex}\n",
        }
    )
    files = {p.mark.file.rsplit("/", 1)[-1] for p in result.errors}
    assert {"a.yml", "b.yml", "c.yml"} <= files


def test_if_elif_else_compiles_to_branches(make_bot: Callable[..., LoadResult]) -> None:
    result = make_bot(
        {
            "branch.yml": """
        flows:
          branch:
            steps:
              - if: "size > 40"
                then: [{say: hello}]
                elif:
                  - if: "size > 35"
                    then: [{say: bye}]
                else: [{say: fallback}]
    """
        }
    )
    assert result.bot is not None, messages(result)
    ops = result.bot.flows["branch"].ops
    assert sum(isinstance(op, BranchOp) for op in ops) == 2
    assert sum(isinstance(op, SayOp) for op in ops) == 3


def test_missing_translation_is_a_warning_not_an_error(make_bot: Callable[..., LoadResult]) -> None:
    result = make_bot()
    assert result.bot is not None
    warnings = [str(p) for p in result.warnings]
    assert any("BOT-W002" in w and "no 'de' version" in w for w in warnings), warnings


def test_a_broken_flow_hides_nothing_else_and_causes_no_false_errors(make_bot: Callable[..., LoadResult]) -> None:
    result = make_bot(
        {
            "flows.yml": """
        flows:
          greet:
            trigger: {intents: [greet]}
            steps:
              - say: hello
                colour: red
          size:
            steps:
              - say: no_such_text
              - goto: nowhere
          fallback:
            steps:
              - say: fallback
              - goto: greet
    """
        }
    )
    assert messages(result) == [
        "flows.yml:6:9: error BOT-E010: unknown key 'colour' in flows.greet.steps.0",
        "flows.yml:9:14: error FLOW-E001: flow 'size': unknown text 'no_such_text' (define it under responses:)",
        "flows.yml:10:15: error FLOW-E004: flow 'size': goto 'nowhere': no step with that id in this flow and no flow "
        "of that name",
    ]  # no "goto 'greet'" nor "fallback_flow" errors: greet is broken, not missing


def test_duplicate_keys_are_reported_and_the_rest_still_checked(make_bot: Callable[..., LoadResult]) -> None:
    result = make_bot(
        {
            "dup.yml": """
        flows:
          dup:
            steps:
              - say: hello
                say: bye
              - say: no_such_text
    """
        }
    )
    assert messages(result) == [
        "dup.yml:5:9: error BOT-E001: duplicate key 'say' (first defined at line 4)",
        "dup.yml:6:14: error FLOW-E001: flow 'dup': unknown text 'no_such_text' (define it under responses:)",
    ]


def test_placeholders_in_texts_must_be_slots_or_built_ins(make_bot: Callable[..., LoadResult]) -> None:
    result = make_bot(
        {
            "texts_de.yml": """
        language: de
        responses:
          size_ok: "Größe {sise} also."
    """
        }
    )
    assert messages(result) == [
        "texts_de.yml:3:3: error BOT-E009: response 'size_ok' (de): unknown name {sise} (not a slot nor one of "
        "channel, event, fallback_streak, language, public_url, recent, thread) (did you mean 'size'?)"
    ]


def test_a_file_that_is_not_utf8_is_located(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from bots.flow.loader import load_bot
    from tests.conftest import BASE_FILES, write_bot

    root = write_bot(tmp_path / "bot", BASE_FILES)
    (root / "latin1.yml").write_bytes("responses:\n  caf: {en: 'Caf\u00e9'}\n".encode("latin-1"))
    result = load_bot(root, languages=("en", "de"), default_language="en")
    assert [str(p) for p in result.errors] == [
        "bot/latin1.yml:2:17: error BOT-E001: not UTF-8 text: byte 0xe9 cannot "
        "start or continue a character; save the file as UTF-8"
    ]


def test_url_buttons_must_be_web_addresses(make_bot: Callable[..., LoadResult]) -> None:
    result = make_bot(
        {
            "links.yml": """
        flows:
          links:
            steps:
              - say: hello
                buttons:
                  - {title: {en: "Evil"}, url: "javascript:alert(1)"}
                  - {title: {en: "Fine"}, url: "https://shop.example/x"}
                  - {title: {en: "Ours"}, url: "{public_url}/cart"}
    """
        }
    )
    assert messages(result) == [
        "links.yml:6:40: error FLOW-E016: flow 'links': a URL button needs an http(s) address "
        "or {public_url}/..., not 'javascript:alert(1)'"
    ]


def test_settings_locales_write_replies_in_that_locale_and_an_unknown_one_is_located(
    make_bot: Callable[..., LoadResult],
) -> None:
    settings = """
        settings:
          fallback_flow: fallback
          locales: {de: de_CH, en: xx_NOWHERE}
    """
    result = make_bot({"settings.yml": settings})
    [problem] = [p for p in result.problems if "locale" in p.message]
    assert "Babel knows no locale en: xx_NOWHERE" in problem.message
    assert problem.mark is not None and problem.mark.file.endswith("settings.yml") and problem.mark.line == 3
    result = make_bot({"settings.yml": settings.replace(", en: xx_NOWHERE", "")})
    assert result.bot is not None and result.bot.locales == {"de": "de_CH"}
