"""The conversation test format: a file holds ``tests:``, each a customer's steps and what the bot must do.

Files are read with their positions kept, so every mistake in a test file is reported as file:line:column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bots.errors import Problem, validation_problems
from bots.located_yaml import LocatedDict, LocatedList, Mark, mark_of

CODE = "TEST-E001"
ACTIONS = ("user", "button", "payload", "event", "switch")
OneOrMany = str | list[str]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Expect(_Strict):
    """What a step's turn must show. Every key is optional; all given must hold."""

    text: OneOrMany | None = None  # each occurs in a reply's text
    not_text: OneOrMany | None = None  # none occurs in any reply's text
    matches: OneOrMany | None = None  # each regular expression is found in a reply's text
    exact: list[str] | None = None  # the replies' texts, all of them, in order
    response: OneOrMany | None = None  # each response key (any variant, in the thread's language) was said
    not_response: OneOrMany | None = None  # none of these response keys was said
    no_reply: bool | None = None
    language: str | None = None
    buttons: list[str] | None = None  # offered (buttons, quick replies, card buttons): titles or their text keys
    media: bool | Literal["image", "video", "gif", "carousel"] | None = None
    slots: dict[str, Any] | None = None  # null: the slot is unset
    intent: str | None = None
    entities: dict[str, Any] | None = None  # the NLU found each entity, with this value (or in this very text)
    flow: str | None = None  # a flow that started or resumed in this turn
    actions: list[str] | None = None  # custom actions that ran in this turn
    handoff: bool | None = None

    @field_validator("matches")
    @classmethod
    def _regexes(cls, value: OneOrMany | None) -> OneOrMany | None:
        for pattern in [value] if isinstance(value, str) else value or []:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from None
        return value


class StepSpec(_Strict):
    """One thing the customer does; exactly one of the action keys."""

    user: str | None = None
    button: str | None = None  # a button or quick reply the last turn offered: its title or its text key
    payload: str | None = None  # a button payload typed as is, e.g. /buy{"sku": "TR2"}
    event: str | None = None
    data: dict[str, Any] | None = None  # the event's data
    switch: str | None = None  # continue the same thread on this channel, as following a link does
    expect: Expect | None = None

    @model_validator(mode="after")
    def _one_action(self) -> StepSpec:
        given = [name for name in ACTIONS if getattr(self, name) is not None]
        if len(given) != 1:
            found = ", ".join(given) or "none"
            raise ValueError(f"a step needs exactly one of {', '.join(ACTIONS)} (found: {found})")
        if self.data is not None and self.event is None:
            raise ValueError("'data' belongs to an 'event' step")
        if self.user is not None and not self.user.strip():
            raise ValueError("'user' is empty")
        return self


class TestSpec(_Strict):
    name: str = Field(min_length=1)
    language: str | None = None  # the customer's locale, as a browser or Messenger reports it
    channel: str = "rest"
    customer: str | None = None
    pending: str | None = Field(default=None, min_length=1)  # why the bot fails it today (e.g. an issue)
    steps: list[StepSpec] = Field(min_length=1)


class FileSpec(_Strict):
    tests: list[TestSpec]


@dataclass(frozen=True)
class Step:
    spec: StepSpec
    mark: Mark


@dataclass(frozen=True)
class ConversationTest:
    name: str
    mark: Mark
    steps: tuple[Step, ...]
    language: str | None = None
    channel: str = "rest"
    customer: str | None = None
    pending: str | None = None
    unmapped: tuple[tuple[Mark, str], ...] = field(default_factory=tuple)  # steps of a Rasa story left out


def parse_tests(data: Any, file: str) -> tuple[list[ConversationTest], list[Problem]]:
    """The tests of a file in Threadline's format, or the problems that keep it from being one."""
    top = Mark(file, 1, 1)
    try:
        spec = FileSpec.model_validate(data)
    except ValidationError as exc:
        return [], validation_problems(exc, data, top, CODE, FileSpec)
    raw_tests = data["tests"]
    tests = []
    for index, test in enumerate(spec.tests):
        raw = raw_tests[index]
        test_mark = mark_of(raw_tests, index, top)
        raw_steps = raw["steps"] if isinstance(raw, LocatedDict) else LocatedList()
        steps = tuple(Step(step, mark_of(raw_steps, i, test_mark)) for i, step in enumerate(test.steps))
        tests.append(
            ConversationTest(test.name, test_mark, steps, test.language, test.channel, test.customer, test.pending)
        )
    return tests, []


def as_list(value: OneOrMany | None) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def relative(path: Path) -> str:
    """A path as the user gave it, relative to here when it is below here."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
