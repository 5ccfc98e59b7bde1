"""Find the test files, check them against the bot, and run them on a throwaway copy of the bot's runtime.

The runtime is the server's own (``open_runtime``: the bot, its actions in process or remote, the NLU), with
a fresh SQLite store in a temporary folder, so a test run never touches real conversations. The NLU model is
the one in the data folder when it matches the bot's examples; otherwise it is trained once and kept there,
as ``threadline train`` would, so the next run starts at once.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from bots.config import Config
from bots.convtest.expect import check
from bots.convtest.observe import Conversation, Observed
from bots.convtest.rasa_stories import parse_stories
from bots.convtest.spec import CODE, ConversationTest, Step, as_list, parse_tests, relative
from bots.errors import Problem, ProblemsError, UserError
from bots.flow.loader import load_bot
from bots.flow.model import Bot
from bots.located_yaml import DuplicateKeys, Mark, YamlError, load_file
from bots.runtime import open_runtime
from connectors.registry import channel_names

SUFFIXES = (".yml", ".yaml")


@dataclass
class StepResult:
    step: Step
    seen: Observed
    failures: list[str]


@dataclass
class TestResult:
    test: ConversationTest
    steps: list[StepResult] = field(default_factory=list)

    @property
    def met(self) -> bool:
        """Every step was played and met its expectations."""
        return all(not s.failures and s.seen.error is None for s in self.steps)

    @property
    def status(self) -> Literal["passed", "failed", "pending", "fixed"]:
        """A ``pending`` test is expected to fail; one that passes is ``fixed`` and fails the run, so that
        its ``pending`` is removed and it guards the fix from then on."""
        if self.test.pending is None:
            return "passed" if self.met else "failed"
        return "fixed" if self.met else "pending"

    @property
    def ok(self) -> bool:
        return self.status in ("passed", "pending")


def test_files(paths: Iterable[Path]) -> list[Path]:
    """The YAML files of ``paths`` (folders searched recursively), in a stable order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file())
        elif path.is_file():
            found.append(path)
        else:
            raise UserError(f"{path}: no such file or folder")
    if not found:
        raise UserError(f"no test files (*.yml) in {', '.join(map(str, paths))}")
    return found


def read_tests(files: list[Path], bot: Bot) -> list[ConversationTest]:
    """Every test of every file; all problems of all files at once (``ProblemsError``) when any is broken."""
    tests: list[ConversationTest] = []
    problems: list[Problem] = []
    for path in files:
        name = relative(path)
        try:
            data = load_file(path, name)
        except YamlError as exc:
            problems.append(Problem(exc.mark, CODE, exc.message))
            continue
        except DuplicateKeys as exc:
            problems += [Problem(e.mark, CODE, e.message) for e in exc.errors]
            continue
        except OSError as exc:
            raise UserError(f"{name}: cannot read it ({exc.strerror})") from None
        if isinstance(data, dict) and "stories" in data and "tests" not in data:
            forms = {flow.form: flow.name for flow in bot.flows.values() if flow.form}
            found, file_problems = parse_stories(data, name, set(bot.responses), forms)
        elif isinstance(data, dict) and "tests" in data:
            found, file_problems = parse_tests(data, name)
        else:
            found, file_problems = (
                [],
                [Problem(Mark(name, 1, 1), CODE, "a test file has 'tests:' (or Rasa's 'stories:')")],
            )
        problems += file_problems + [p for test in found for p in _unknown_names(test, bot)]
        tests += found
    if problems:
        raise ProblemsError(problems)
    if not tests:  # a run that checks nothing must not pass
        raise UserError(f"no tests in {', '.join(relative(path) for path in files)}")
    return tests


def _unknown_names(test: ConversationTest, bot: Bot) -> list[Problem]:
    """Names a test uses that the bot does not have: a typo would otherwise read as a failing bot."""
    problems = []
    channels = channel_names()
    if test.channel not in channels:
        problems.append(Problem(test.mark, CODE, f"unknown channel {test.channel!r} (channels: {', '.join(channels)})"))
    for step in test.steps:
        spec, expect = step.spec, step.spec.expect
        if spec.switch is not None and spec.switch not in channels:
            problems.append(Problem(step.mark, CODE, f"switch: unknown channel {spec.switch!r}"))
        if expect is None:
            continue
        unknown = [f"flow {expect.flow!r}"] if expect.flow is not None and expect.flow not in bot.flows else []
        unknown += [f"slot {name!r}" for name in expect.slots or {} if name not in bot.slots]
        keys = as_list(expect.response) + as_list(expect.not_response)
        unknown += [f"response {key!r}" for key in keys if key not in bot.responses]
        problems += [Problem(step.mark, CODE, f"the bot has no {what}") for what in unknown]
    return problems


async def run_tests(config: Config, paths: list[Path]) -> list[TestResult]:
    files = test_files(paths)
    loaded = load_bot(
        config.bot, languages=config.languages, default_language=config.default_language, channels=channel_names()
    )
    if loaded.bot is None:
        raise ProblemsError(loaded.errors)
    tests = read_tests(files, loaded.bot)  # a broken test file fails before any training
    with tempfile.TemporaryDirectory(prefix="threadline-test-") as folder:
        scratch = Path(folder)
        models = config.data_dir / "models"
        try:
            models.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(
                f"data folder {config.data_dir}: cannot keep the NLU model there ({exc.strerror})"
            ) from None
        (scratch / "models").symlink_to(models.resolve(), target_is_directory=True)
        throwaway = config.model_copy(update={"data_dir": scratch, "store": "sqlite:///conversations.db"})
        async with open_runtime(throwaway) as runtime:
            results = []
            for number, test in enumerate(tests, 1):
                results.append(await _run(Conversation(runtime, test, number), runtime.bot))
            return results


async def _run(conversation: Conversation, bot: Bot) -> TestResult:
    result = TestResult(conversation.test)
    for step in conversation.test.steps:
        seen = await conversation.play(step)
        failures = check(step.spec.expect, seen, bot) if step.spec.expect and seen.error is None else []
        result.steps.append(StepResult(step, seen, failures))
        if seen.error is not None:
            break  # the rest of the conversation would not be the one written
    return result
