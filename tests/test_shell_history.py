"""`threadline shell` in a real terminal (a pseudo-terminal): arrow keys edit and recall lines, and the history
outlives the session."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pexpect

from tests.conftest import DEMO_BOT, REPO
from tests.trained_models import provide_demo_model

UP, LEFT = "\x1b[A", "\x1b[D"
WELCOME = "bot: Hi! I'm Stride's shopping assistant"
GREETING = "bot: Hi there! How can I help you today?"  # the answer to "hi"


def start_shell(tmp_path: Path) -> pexpect.spawn:
    """The shell on the demo bot, waiting at its first prompt."""
    config = tmp_path / "config.yaml"
    config.write_text(f"bot: {DEMO_BOT}\n")
    provide_demo_model(tmp_path / "data")
    child = pexpect.spawn(
        sys.executable,
        ["-m", "bots.cli", "shell", "--config", str(config)],
        cwd=str(REPO),
        env={**os.environ, "THREADLINE_DATA_DIR": str(tmp_path / "data"), "TERM": "xterm"},
        encoding="utf-8",
        timeout=90,  # a bound on waiting for the prompt, never a wait: expect() returns as soon as it shows
        dimensions=(24, 200),
    )
    child.expect_exact(WELCOME)
    child.expect_exact("you: ")
    return child


def quit_shell(child: pexpect.spawn) -> None:
    child.sendline(":quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before


def test_arrow_keys_edit_a_line_and_recall_the_last_one(tmp_path: Path) -> None:
    child = start_shell(tmp_path)
    child.send("i" + LEFT + "h\r")  # typed "i", moved left, put "h" before it: "hi" is sent
    child.expect_exact(GREETING)
    child.expect_exact("you: ")
    child.sendline(":event nothing")
    child.expect_exact("(no reply)")
    child.expect_exact("you: ")
    child.send(UP + UP + "\r")  # back past ":event nothing" to "hi"; without readline the bot would not greet
    child.expect_exact(GREETING)
    child.expect_exact("you: ")
    quit_shell(child)


def test_the_history_is_kept_in_the_data_folder_for_the_next_session(tmp_path: Path) -> None:
    child = start_shell(tmp_path)
    child.sendline("hi")
    child.expect_exact(GREETING)
    child.expect_exact("you: ")
    quit_shell(child)
    history = tmp_path / "data" / ".threadline_shell_history"
    assert history.read_text().splitlines()[-2:] == ["hi", ":quit"]

    child = start_shell(tmp_path)
    child.send(UP + UP + "\r")  # ":quit", then "hi" of the last session
    child.expect_exact(GREETING)
    child.expect_exact("you: ")
    quit_shell(child)
    assert history.read_text().splitlines()[-4:] == ["hi", ":quit", "hi", ":quit"]
