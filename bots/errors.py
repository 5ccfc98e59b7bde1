"""Errors a user can cause, reported with where and what, never with a traceback."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from bots.located_yaml import LocatedDict, LocatedList, Mark, key_mark_of, mark_of


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a user's file. ``code`` is stable so docs and tests can refer to it."""

    mark: Mark
    code: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.mark}: {self.severity} {self.code}: {self.message}"


class UserError(Exception):
    """A problem in the user's configuration or bot files; its text is meant for the user."""


class ProblemsError(UserError):
    """Several problems found at once, so the user can fix them all in one go."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.mark.file, p.mark.line, p.mark.column))
        count = len([p for p in self.problems if p.severity == "error"])
        lines = "\n".join(str(p) for p in self.problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} found:\n{lines}")


def _walk(data: Any, loc: tuple[Any, ...], fallback: Mark) -> tuple[Mark, list[str], bool]:
    """Follow a pydantic error location through located YAML.

    Returns the best mark, the dotted path of the keys that exist in the data
    (union member and tag names, which pydantic puts in locations, are
    skipped) and whether such names were skipped (the error belongs to a union).
    """
    node, mark, path, skipped = data, getattr(data, "mark", fallback), [], False
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if isinstance(node, LocatedDict) and part in node:
            mark = key_mark_of(node, part, mark) if last else mark_of(node, part, mark)
            node = node[part]
            path.append(str(part))
        elif isinstance(node, LocatedList) and isinstance(part, int) and 0 <= part < len(node):
            mark = mark_of(node, part, mark)
            node = node[part]
            path.append(str(part))
        elif isinstance(part, str) and (
            not last
            or "[" in part
            or part[:1].isupper()
            or ":" in part
            or part in ("str", "int", "float", "bool", "list", "dict")
        ):
            skipped = True
        else:
            path.append(str(part))
    return mark, path, skipped


def mark_at(data: Any, loc: tuple[Any, ...], fallback: Mark) -> Mark:
    """Where a key path (``("connectors", "messenger", "profile")``) stands in located YAML, as near as it exists."""
    return _walk(data, loc, fallback)[0]


def validation_problems(exc: ValidationError, data: Any, fallback: Mark, code: str) -> list[Problem]:
    """Turn pydantic's errors into problems that name the file, line and dotted key, one per place."""
    problems: list[Problem] = []
    seen: set[tuple[str, int, int, str]] = set()
    for error in exc.errors():
        mark, path, in_union = _walk(data, tuple(error["loc"]), fallback)
        dotted = ".".join(path) or "(top level)"
        kind = error["type"]
        if kind == "extra_forbidden":
            message = f"unknown key {path[-1]!r} in {'.'.join(path[:-1]) or 'the file'}"
        elif kind == "missing":
            message = f"{dotted}: required key is missing"
        elif in_union:
            message = f"{dotted}: invalid value ({error['msg'].removeprefix('Value error, ')})"
        else:
            message = f"{dotted}: {error['msg'].removeprefix('Value error, ')}"
        key = (mark.file, mark.line, mark.column, dotted)
        if in_union and key in seen:
            continue
        seen.add(key)
        problems.append(Problem(mark, code, message))
    return problems
