"""Errors a user can cause, reported with where and what, never with a traceback."""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, Tag, ValidationError

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
    skipped) and whether member names were skipped (the error belongs to one of a union's members, so it may
    not be the one meant). A tag (``step:say``) names the one member its mapping picked, so it does not count.
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
            skipped = skipped or ":" not in part
        else:
            path.append(str(part))
    return mark, path, skipped


def mark_at(data: Any, loc: tuple[Any, ...], fallback: Mark) -> Mark:
    """Where a key path (``("connectors", "messenger", "profile")``) stands in located YAML, as near as it exists."""
    return _walk(data, loc, fallback)[0]


def did_you_mean(name: Any, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when one known name is close to ``name``: most wrong names are typos."""
    if not isinstance(name, str):
        return ""
    close = difflib.get_close_matches(name, sorted({k for k in known if k != name}), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _label(member: Any) -> str | None:
    """The name pydantic gives a union member in error locations: its tag, or its class name."""
    if get_origin(member) is Annotated:
        tags = [m.tag for m in get_args(member)[1:] if isinstance(m, Tag)]
        return tags[0] if tags else _label(get_args(member)[0])
    return member.__name__ if isinstance(member, type) else None


def _annotation_at(annotation: Any, loc: list[Any]) -> Any:
    """The type that a pydantic error location points into, followed from ``annotation``; None if lost."""
    while loc:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [m for m in get_args(annotation) if m is not type(None)]
            chosen = [m for m in members if _label(m) == loc[0]]
            if chosen:
                loc = loc[1:]
            elif len(members) != 1:
                return None
            annotation = (chosen or members)[0]
        elif origin in (list, dict):
            annotation, loc = get_args(annotation)[-1], loc[1:]
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            fields = {field.alias or name: field for name, field in annotation.model_fields.items()}
            if loc[0] not in fields:
                return None
            annotation, loc = fields[loc[0]].annotation, loc[1:]
        else:
            return None
    return annotation


def expected_keys(annotation: Any) -> list[str]:
    """The keys a mapping of this type may have: a model's fields, or the keys that pick a tagged union's member
    (a tag ``step:say`` is picked by the key ``say``)."""
    while True:
        origin, args = get_origin(annotation), get_args(annotation)
        if origin is Annotated:
            annotation = args[0]
        elif origin in (Union, types.UnionType) and len(args) == 2 and type(None) in args:
            annotation = args[0] if args[1] is type(None) else args[1]
        else:
            break
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [field.alias or name for name, field in annotation.model_fields.items()]
    if get_origin(annotation) in (Union, types.UnionType):
        labels = [_label(m) or "" for m in get_args(annotation)]
        return [key for label in labels if (key := label.partition(":")[2]).isidentifier()]
    return []


def _hint(error: Any, root: type[BaseModel] | None) -> str:
    """A "did you mean" for a misspelt key, from the keys the model at the error's place allows, or for a
    misspelt word of a fixed list."""
    loc, given = list(error["loc"]), error.get("input")
    if error["type"] == "literal_error":  # one of a few words, listed in the message
        return did_you_mean(given, re.findall(r"'([^']*)'", str(error.get("ctx", {}).get("expected", ""))))
    if error["type"] == "string_type" and (isinstance(given, bool) or given is None):  # `user: yes`, `- no`
        return (
            " (YAML reads yes, no, on, off, true and false unquoted as true or false, and an empty value as null:"
            " put the text in quotes)"
        )
    if root is None:
        return ""
    if error["type"] == "extra_forbidden":
        return did_you_mean(loc[-1], expected_keys(_annotation_at(root, loc[:-1])))
    if isinstance(given, dict):  # a mapping no member of a tagged union takes: one of its keys may be misspelt
        keys = expected_keys(_annotation_at(root, loc))
        return next((hint for key in given if key not in keys and (hint := did_you_mean(key, keys))), "")
    return ""


def validation_problems(
    exc: ValidationError, data: Any, fallback: Mark, code: str, root: type[BaseModel] | None = None
) -> list[Problem]:
    """Turn pydantic's errors into problems that name the file, line and dotted key, one per place.

    ``root`` is the model that was validated: with it, a misspelt key gets a "did you mean".
    """
    problems: list[Problem] = []
    seen: set[tuple[str, int, int, str]] = set()
    # Of a union's errors at one place, the one that says what is wrong comes first: "a button needs a payload"
    # over "Input should be a valid string" (the value was meant as the other member).
    # A union member's type error is dropped where another member got further ("unknown key 'a' in x.en" says
    # more than "x.en: Input should be a valid string").
    errors = sorted(exc.errors(), key=lambda e: str(e["type"]).endswith("_type"))
    walked = [(error, *_walk(data, tuple(error["loc"]), fallback)) for error in errors]
    deeper = {".".join(path[:-1]) for _e, _m, path, _u in walked if len(path) > 1}
    for error, mark, path, in_union in walked:
        dotted = ".".join(path) or "(top level)"
        kind = error["type"]
        if in_union and str(kind).endswith("_type") and dotted in deeper:
            continue
        hint = _hint(error, root)
        if kind == "extra_forbidden":
            message = f"unknown key {path[-1]!r} in {'.'.join(path[:-1]) or 'the file'}{hint}"
        elif kind == "missing":
            message = f"{dotted}: required key is missing"
        elif in_union:
            message = f"{dotted}: invalid value ({error['msg'].removeprefix('Value error, ')})"
        else:
            message = f"{dotted}: {error['msg'].removeprefix('Value error, ')}{hint}"
        key = (mark.file, mark.line, mark.column, dotted)
        if in_union and key in seen:
            continue
        seen.add(key)
        problems.append(Problem(mark, code, message))
    return problems
