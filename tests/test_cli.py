"""The `threadline` command as a user runs it: exit codes and what it prints."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import BASE_FILES, DEMO_BOT, REPO, write_bot
from tests.trained_models import provide_demo_model


def threadline(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None, cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bots.cli", *args],
        cwd=cwd,
        input=stdin,
        text=True,
        capture_output=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_version() -> None:
    result = threadline("version")
    assert result.returncode == 0 and result.stdout.strip() == "threadline 0.1.0"


def test_validate_demo_bot() -> None:
    result = threadline("validate")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("Stride: OK — 33 flows, 20 intents")


def test_validate_broken_bot_lists_every_problem_and_fails(tmp_path: Path) -> None:
    bot = write_bot(
        tmp_path / "broken",
        {
            **BASE_FILES,
            "bad.yml": """
        flows:
          bad:
            steps:
              - say: missing_text
              - goto: nowhere
              - say: hello
    """,
            "worse.yml": "flows: [unclosed\n",
        },
    )
    result = threadline("validate", str(bot), "--config", str(tmp_path / "absent.yaml"))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert (
        "broken/bad.yml:4:14: error FLOW-E001: flow 'bad': unknown text 'missing_text' (define it under "
        "responses:)" in lines
    )
    assert (
        "broken/bad.yml:6:9: error FLOW-E007: flow 'bad': this step can never run (it follows a goto, end or "
        "handoff)" in lines
    )
    assert any(line.startswith("broken/worse.yml:2:1: error BOT-E001: invalid YAML") for line in lines), lines
    assert lines[-1].startswith("broken: 4 errors")
    assert "Traceback" not in result.stderr


def test_validate_missing_folder(tmp_path: Path) -> None:
    result = threadline("validate", str(tmp_path / "nope"), "--config", str(tmp_path / "absent.yaml"))
    assert result.returncode == 1
    assert "bot folder not found" in result.stderr


def test_validate_reports_a_flow_calling_an_unknown_action(tmp_path: Path) -> None:
    bot = write_bot(
        tmp_path / "b",
        {
            **BASE_FILES,
            "act.yml": """
        flows:
          act:
            steps:
              - action: lookup_ordr
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
    result = threadline("validate", str(bot), "--config", str(tmp_path / "absent.yaml"))
    assert result.returncode == 1
    assert "unknown action 'lookup_ordr' (available: lookup_order)" in result.stderr


def test_a_continue_button_must_name_a_channel_of_the_registry(tmp_path: Path) -> None:
    bot = write_bot(
        tmp_path / "bot",
        {
            **BASE_FILES,
            "go.yml": """
        flows:
          go:
            trigger: {payloads: [/go]}
            steps:
              - say: {en: "Go on elsewhere?"}
                buttons:
                  - {title: {en: Instagram}, continue_in: instagram}
                  - {title: {en: Typo}, continue_in: instagrm}
    """,
        },
    )
    result = threadline("validate", str(bot), "--config", str(tmp_path / "absent.yaml"))
    assert result.returncode == 1, result.stdout
    *errors, count = result.stderr.splitlines()
    assert errors == [  # a channel of the registry is fine
        "bot/go.yml:8:33: error BOT-E010: flows.go.steps.0.buttons.1.continue_in: no channel 'instagrm' to continue "
        "in (channels: rest, web, messenger, instagram) (did you mean 'instagram'?)"
    ]
    assert count.startswith("bot: 1 error,")


def test_bad_config_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        textwrap.dedent(f"""
        bot: {DEMO_BOT}
        server:
          port: eighty
          colour: red
        store: ${{NO_SUCH_VARIABLE_HERE}}
    """)
    )
    result = threadline("run", "--config", str(config))
    assert result.returncode == 2
    assert "store: environment variable NO_SUCH_VARIABLE_HERE is not set" in result.stderr
    assert "Traceback" not in result.stderr
    config.write_text(f"bot: {DEMO_BOT}\nserver:\n  port: eighty\n  colour: red\n")
    result = threadline("run", "--config", str(config))
    assert result.returncode == 2
    assert "config.yaml:3:3: error CFG-E003: server.port: Input should be a valid integer" in result.stderr
    assert "config.yaml:4:3: error CFG-E003: unknown key 'colour' in server" in result.stderr
    result = threadline("run", "--config", str(tmp_path / "missing.yaml"))
    assert result.returncode == 2 and "config file not found" in result.stderr


def test_shell_numbers_buttons_and_presses_them(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"bot: {DEMO_BOT}\n")
    provide_demo_model(tmp_path / "data")
    result = threadline(
        "shell",
        "--config",
        str(config),
        stdin='1\nST-123456\n:event product_viewed {"sku": "TR2"}\n:event product_viewed {"sku": "TR2"}\n:quit\n',
        env={"THREADLINE_DATA_DIR": str(tmp_path / "data")},
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "bot: Hi! I'm Stride's shopping assistant" in out
    assert "   1) Track my order" in out and "   4) Returns" in out
    assert "bot: Sure! What's your order number?" in out  # "1" pressed the first quick reply
    assert "bot: Good news! Your order ST-123456 (Trail Runner 2, EU 42) has shipped" in out
    assert "bot: [gif] http://127.0.0.1:8080/media/stride-wave.gif — Still thinking about the Trail Runner 2?" in out


def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = threadline("run", "--port", str(port), env={"THREADLINE_DATA_DIR": str(tmp_path / "data")})
    assert result.returncode == 2
    assert f"threadline: cannot listen on 127.0.0.1:{port}:" in result.stderr and "in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_store_setup_mistakes_are_clear_errors(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "afile"
    not_a_dir.write_text("x")
    result = threadline(
        "shell", "--config", str(REPO / "config.yaml"), stdin=":quit\n", env={"THREADLINE_DATA_DIR": str(not_a_dir)}
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"threadline: store {not_a_dir}/threadline.db: cannot open it:" in result.stderr
    garbage = tmp_path / "data"
    garbage.mkdir()
    (garbage / "threadline.db").write_bytes(b"this is not a database" * 100)
    result = threadline(
        "shell", "--config", str(REPO / "config.yaml"), stdin=":quit\n", env={"THREADLINE_DATA_DIR": str(garbage)}
    )
    assert result.returncode == 2 and "file is not a database" in result.stderr and "Traceback" not in result.stderr
    result = threadline("run", "--port", "99999")
    assert result.returncode == 2 and "99999 is not a port number (0-65535)" in result.stderr


def test_shell_refuses_invalid_text_and_says_why_nothing_came(tmp_path: Path) -> None:
    provide_demo_model(tmp_path / "data")
    result = subprocess.run(
        [sys.executable, "-m", "bots.cli", "shell"],
        cwd=REPO,
        input=b"\xff\xfe\n:event nothing\n:quit\n",
        capture_output=True,
        timeout=120,
        env={**os.environ, "THREADLINE_DATA_DIR": str(tmp_path / "data")},
    )
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr.decode()
    assert "(that was not valid UTF-8 text; nothing was sent)" in out
    assert "(no reply)" in out and "a person has taken over" not in out


def test_validate_warns_about_the_channels_limits(tmp_path: Path) -> None:
    bot = write_bot(
        tmp_path / "wide",
        {
            **BASE_FILES,
            "wide.yml": """
        flows:
          wide:
            steps:
              - say: hello
                buttons:
                  - {title: {en: "One"}, payload: /1}
                  - {title: {en: "Two"}, payload: /2}
                  - {title: {en: "Three"}, payload: /3}
                  - {title: {en: "A title that is far too long"}, payload: /4}
    """,
        },
    )
    result = threadline("validate", str(bot), "--config", str(tmp_path / "absent.yaml"))
    assert result.returncode == 0  # warnings only: at run time it degrades
    # every channel of the registry with limits is checked; one warning names all those with the same limit
    assert (
        "wide/wide.yml:4:9: warning MSG-W001: flow 'wide': 4 buttons; Messenger and Instagram show 3 per message "
        "(on Messenger and Instagram this is adjusted)" in result.stdout
    )
    assert "title 'A title that is far too long' is longer than 20 characters" in result.stdout


def test_a_yaml_alias_bomb_or_deep_nesting_is_a_clear_error_at_once(tmp_path: Path) -> None:
    laughs = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level, name in enumerate("bcdefghi"):
        previous = "abcdefghi"[level]
        laughs.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    for name, text in (("bomb.yml", "\n".join(laughs) + "\n"), ("deep.yml", "[" * 5000 + "]" * 5000 + "\n")):
        bot = write_bot(tmp_path / name.split(".")[0], {**BASE_FILES})
        (bot / name).write_text(text, encoding="utf-8")
        result = threadline("validate", str(bot), "--config", str(tmp_path / "absent.yaml"))
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        expected = "expand to too many values" if name == "bomb.yml" else "nested too deeply"
        assert f"{name}:1:" in result.stderr and expected in result.stderr, result.stderr


def test_validate_warns_about_a_payload_that_starts_no_flow(tmp_path: Path) -> None:
    bot = write_bot(
        tmp_path / "typo",
        {
            **BASE_FILES,
            "typo.yml": """
        flows:
          menu:
            trigger: {payloads: [/menu]}
            steps:
              - say: {en: "What now?"}
                buttons:
                  - {title: {en: "Again"}, payload: /menu}
                  - {title: {en: "Typo"}, payload: /menuu}
                quick_replies:
                  - {title: {en: "Buy"}, payload: '/buy{"sku": "TR2"}'}
    """,
        },
    )
    result = threadline("validate", str(bot), "--config", str(tmp_path / "absent.yaml"))
    assert result.returncode == 0  # a warning: the bot runs, the press reaches the fallback
    warnings = [line for line in result.stdout.splitlines() if "BOT-W005" in line]
    assert len(warnings) == 2, result.stdout
    assert warnings[0] == (
        "typo/typo.yml:5:9: warning BOT-W005: flow 'menu': payload '/menuu' starts no flow and names no intent: "
        "pressing it reaches the fallback (did you mean '/menu'?)"
    )
    assert "'/buy' starts no flow and names no intent" in warnings[1]


def test_validate_counts_the_buttons_a_response_brings(tmp_path: Path) -> None:
    """A response's own buttons (a variant in the responses) are shown where a step says it: the same limits."""
    bot = write_bot(
        tmp_path / "rich",
        {
            **BASE_FILES,
            "rich.yml": """
        language: en
        responses:
          menu:
            text: "What now?"
            buttons:
              - {title: "One", payload: /1}
              - {title: "Two", payload: /2}
              - {title: "Three", payload: /3}
              - {title: "A title that is far too long", payload: /4}
        flows:
          rich:
            steps:
              - say: menu
    """,
        },
    )
    result = threadline("validate", str(bot), "--config", str(tmp_path / "absent.yaml"))
    assert result.returncode == 0
    assert "flow 'rich': 4 buttons; Messenger and Instagram show 3 per message" in result.stdout
    assert "title 'A title that is far too long' is longer than 20 characters" in result.stdout
