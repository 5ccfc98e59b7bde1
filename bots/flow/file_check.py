"""Check one bot file's form section by section, flow by flow and step by step.

A wrong step must hide nothing: each flow is checked on its own, and a flow whose mistakes all sit inside steps
or optional keys is checked again with stand-ins (:class:`~bots.flow.schema.InvalidStep`) for its broken steps and
without its broken keys, so its other steps are still compiled and their references checked. Only a flow that
cannot be read even so (no steps, say) is left out, and then references to it are not reported as unknown.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from bots.errors import Problem, did_you_mean, validation_problems
from bots.flow import schema as s
from bots.located_yaml import LocatedDict, Mark, key_mark_of

# The keys whose values are lists of steps (``steps`` of a flow, ``then``/``else`` of an if, ...)
STEP_LISTS = frozenset({"steps", "then", "else", "on_failure", "on_error"})
# Sections whose entries are checked one by one; a broken entry's name goes in ``broken``
NAMED_SECTIONS = ("flows", "slots", "responses")


def validate_file(raw: LocatedDict, top: Mark, problems: list[Problem], broken: dict[str, set[str]]) -> s.BotFileSpec:
    """The file's valid parts as a spec; every problem of the others goes to ``problems``."""
    sections = s.BotFileSpec.model_fields
    for key in raw:
        if key not in sections:
            problems.append(
                Problem(
                    key_mark_of(raw, key, top),
                    "BOT-E010",
                    f"unknown key {key!r} in the file (sections: {', '.join(sections)}){did_you_mean(key, sections)}",
                )
            )
    parts: dict[str, Any] = {}
    for key in sections:
        if key not in raw:
            continue
        section = raw[key]
        if key in NAMED_SECTIONS and isinstance(section, dict):
            valid = {}
            for name in section:
                entry = _entry(key, name, section[name], raw, top, problems)
                if entry is None:
                    broken[key].add(str(name))
                else:
                    valid[name] = entry
            parts[key] = valid
            continue
        try:
            parts[key] = getattr(s.BotFileSpec.model_validate({key: section}), key)
        except ValidationError as exc:
            problems.extend(validation_problems(exc, raw, top, "BOT-E010", s.BotFileSpec))
    return s.BotFileSpec.model_construct(**{**s.BotFileSpec().model_dump(), **parts})


def _entry(key: str, name: Any, value: Any, raw: LocatedDict, top: Mark, problems: list[Problem]) -> Any | None:
    """One flow, slot or text, validated; a flow with broken steps comes back with stand-ins for them."""
    try:
        return getattr(s.BotFileSpec.model_validate({key: {name: value}}), key)[name]
    except ValidationError as exc:
        problems.extend(validation_problems(exc, raw, top, "BOT-E010", s.BotFileSpec))
        errors = [(error["type"], tuple(error["loc"])[2:]) for error in exc.errors()]
    patched = _stand_ins(value, errors) if key == "flows" else None
    if patched is None:
        return None
    try:
        return getattr(s.BotFileSpec.model_validate({key: {name: patched}}), key)[name]
    except ValidationError:  # already reported: the stand-ins could not mend it
        return None


def _plain(value: Any) -> Any:
    """A copy of located YAML as plain dicts and lists, to patch without touching the marks the compiler reads."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _data_path(data: Any, loc: tuple[Any, ...]) -> list[Any]:
    """The keys and indexes of an error location that exist in the data (pydantic adds union member names)."""
    path: list[Any] = []
    for part in loc:
        if isinstance(data, dict) and part in data or isinstance(data, list) and isinstance(part, int):
            if isinstance(data, list) and not 0 <= part < len(data):
                break
            path.append(part)
            data = data[part]
    return path


def _stand_ins(flow: Any, errors: list[tuple[str, tuple[Any, ...]]]) -> dict[str, Any] | None:
    """The flow without its unknown keys, with a stand-in for each step that is still broken and without its
    other broken keys; None when a mistake is in the flow itself.

    An unknown key means nothing, so dropping it changes no meaning, and the rest of its step is still checked;
    any other broken value could be what gives its step sense, so the whole step is stood in for.
    """
    if not isinstance(flow, dict):
        return None
    copy: dict[str, Any] = _plain(flow)
    targets: set[tuple[Any, ...]] = set()
    for kind, loc in errors:
        path = _data_path(copy, loc)
        steps = [i for i in range(1, len(path)) if isinstance(path[i], int) and path[i - 1] in STEP_LISTS]
        keys = [i for i, part in enumerate(path) if not isinstance(part, int)]
        if kind == "extra_forbidden" and path:
            targets.add(tuple(path))
        elif steps:
            targets.add(tuple(path[: steps[-1] + 1]))
        elif keys:
            targets.add(tuple(path[: keys[-1] + 1]))
        else:
            return None
    done: list[tuple[Any, ...]] = []
    for target in sorted(targets, key=len):
        if any(target[: len(prefix)] == prefix for prefix in done):
            continue  # inside a step or key already replaced
        done.append(target)
        parent: Any = copy
        for part in target[:-1]:
            parent = parent[part]
        if isinstance(target[-1], int):
            step = parent[target[-1]]
            label = step.get("id") if isinstance(step, dict) else None
            parent[target[-1]] = s.InvalidStep(id=label if isinstance(label, str) else None)
        else:
            del parent[target[-1]]
    return copy
