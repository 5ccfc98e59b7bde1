"""Property: a bot folder broken in any way either loads or is refused with located problems (file, line,
column, code and message, the line inside the file), through the loader and through ``threadline validate``;
never another exception, a traceback or an ERROR in the log."""

from __future__ import annotations

import contextlib
import io
import logging
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bots.cli.validate import validate
from bots.config import SUPPORTED_LANGUAGES
from bots.errors import Problem
from bots.flow.loader import bot_files, load_bot
from tests.conftest import BASE_FILES, DEMO_BOT, fuzz_examples, write_bot
from tests.fuzz.harness import FailureLog
from tests.fuzz.mutations import mutated

YAML_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
PROBLEM_LINE = re.compile(r"^\S.*:\d+:\d+: (error|warning) [A-Z]+-[EW]\d+: \S")
DEMO_ACTIONS = ["lookup_order", "lookup_product", "recall_viewed_product"]


@contextlib.contextmanager
def failures_logged() -> Iterator[FailureLog]:
    failures = FailureLog()
    logging.getLogger().addHandler(failures)
    try:
        yield failures
    finally:
        logging.getLogger().removeHandler(failures)


def assert_located(problem: Problem, bot: Path) -> None:
    """The problem names a place a person can open: a file of the folder (or the folder) and a line in it."""
    assert PROBLEM_LINE.match(str(problem)), str(problem)
    where = bot.parent / problem.mark.file
    assert where.exists(), str(problem)
    if where.is_file():
        raw = where.read_bytes()
        try:  # YAML counts lines as an editor shows them: CR LF, CR, LF, NEL, LS and PS each end one
            lines = len(YAML_LINE_BREAK.findall(raw.decode())) + 1
        except UnicodeDecodeError:  # reported by the line of the first bad byte, lines counted by LF
            lines = raw.count(b"\n") + 1
        assert 1 <= problem.mark.line <= lines and problem.mark.column >= 1, (str(problem), lines)


def check_loads_or_locates(bot: Path, **options: object) -> None:
    result = load_bot(bot, **options)  # type: ignore[arg-type]
    if result.bot is None:
        assert result.errors, result.problems
    for problem in result.problems:
        assert_located(problem, bot)


@contextlib.contextmanager
def rewritten(path: Path, raw: bytes) -> Iterator[None]:
    """``path`` holds ``raw`` for a while, then its own bytes again."""
    original = path.read_bytes()
    path.write_bytes(raw)
    try:
        yield
    finally:
        path.write_bytes(original)


def test_a_broken_small_bot_loads_or_says_where_through_validate(tmp_path: Path) -> None:
    bot = write_bot(tmp_path / "small", BASE_FILES)
    files = bot_files(bot)
    absent_config = tmp_path / "absent.yaml"

    @settings(max_examples=fuzz_examples(40))
    @given(st.data())
    def refused_with_a_place(data: st.DataObject) -> None:
        path = data.draw(st.sampled_from(files))
        with rewritten(path, data.draw(mutated(path.read_bytes()))), failures_logged() as failures:
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = validate(absent_config, bot)
            check_loads_or_locates(bot, languages=("en", "de"), default_language="en")
        assert code in (0, 1) and "Traceback" not in out.getvalue() + err.getvalue()
        problems = [line for line in err.getvalue().splitlines() if ": error " in line]
        assert (code == 1) == bool(problems), err.getvalue()
        assert all(PROBLEM_LINE.match(line) for line in problems), err.getvalue()
        assert failures.take() == []

    refused_with_a_place()


def test_a_broken_demo_bot_file_loads_or_says_where(tmp_path: Path) -> None:
    bot = tmp_path / "flows"
    shutil.copytree(DEMO_BOT, bot)
    files = bot_files(bot)

    @settings(max_examples=fuzz_examples(15))
    @given(st.data())
    def refused_with_a_place(data: st.DataObject) -> None:
        path = data.draw(st.sampled_from(files))
        with rewritten(path, data.draw(mutated(path.read_bytes()))), failures_logged() as failures:
            check_loads_or_locates(
                bot, languages=SUPPORTED_LANGUAGES, default_language="en", actions=DEMO_ACTIONS, channels=None
            )
        assert failures.take() == []

    refused_with_a_place()
