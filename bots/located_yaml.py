"""YAML loading that remembers where every value came from.

PyYAML's safe loader forgets positions and silently keeps the last of two
duplicate keys. Users need "flows/orders.yml:12:5: ..." in every error
message, so we compose the node graph ourselves and build plain dicts and
lists that carry their marks on the side.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Mark:
    """A 1-based position in a source file."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class LocatedDict(dict[Any, Any]):
    """A dict that knows where it and each of its keys and values stand."""

    mark: Mark
    key_marks: dict[Any, Mark]
    value_marks: dict[Any, Mark]


class LocatedList(list[Any]):
    """A list that knows where it and each of its items stand."""

    mark: Mark
    item_marks: list[Mark]


class YamlError(Exception):
    """A YAML file that cannot be read; ``mark`` says where."""

    def __init__(self, mark: Mark, message: str) -> None:
        super().__init__(f"{mark}: {message}")
        self.mark = mark
        self.message = message


def _mark(file: str, node: yaml.Node) -> Mark:
    return Mark(file, node.start_mark.line + 1, node.start_mark.column + 1)


# Values a file may expand to, beyond 10 per character of its text: YAML aliases repeat what they name, and
# aliases of aliases of lists multiply ("billion laughs": a 1 KB file that expands to billions of values).
EXPANSION_BASE = 100_000


class _Builder:
    def __init__(self, file: str, budget: int, yaml_1_2: bool = False) -> None:
        self.file = file
        self.yaml_1_2 = yaml_1_2
        self.scalar_loader = yaml.SafeLoader("")
        self.duplicates: list[YamlError] = []
        self.budget = budget

    def build(self, node: yaml.Node) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise YamlError(
                _mark(self.file, node),
                "the file's aliases (*name) expand to too many values; "
                "write the repeated parts out, or repeat them fewer times",
            )
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node)
        if isinstance(node, yaml.SequenceNode):
            result = LocatedList(self.build(item) for item in node.value)
            result.mark = _mark(self.file, node)
            result.item_marks = [_mark(self.file, item) for item in node.value]
            return result
        assert isinstance(node, yaml.ScalarNode)
        if self.yaml_1_2 and node.tag == "tag:yaml.org,2002:bool" and node.value.lower() not in ("true", "false"):
            return node.value  # YAML 1.2 (Rasa's ruamel.yaml): yes, no, on and off are words
        return self.scalar_loader.construct_object(node, deep=True)

    def _mapping(self, node: yaml.MappingNode) -> LocatedDict:
        # Resolve YAML merge keys (<<) the way PyYAML does, before we read pairs.
        self.scalar_loader.flatten_mapping(node)
        result = LocatedDict()
        result.mark = _mark(self.file, node)
        result.key_marks = {}
        result.value_marks = {}
        for key_node, value_node in node.value:
            key = self.build(key_node)
            if isinstance(key, (dict, list)):
                raise YamlError(_mark(self.file, key_node), "a mapping key must be a plain value")
            if key in result:
                first = result.key_marks[key]
                # reported, and the first definition kept, so the rest of the file is still checked
                self.duplicates.append(
                    YamlError(_mark(self.file, key_node), f"duplicate key {key!r} (first defined at line {first.line})")
                )
                continue
            result[key] = self.build(value_node)
            result.key_marks[key] = _mark(self.file, key_node)
            result.value_marks[key] = _mark(self.file, value_node)
        return result


def load_text(text: str, file: str, yaml_1_2: bool = False) -> Any:
    """Parse YAML text into located dicts and lists; raise :class:`YamlError` on bad YAML.

    ``yaml_1_2`` reads yes/no/on/off as the words YAML 1.2 makes them, as files written for Rasa expect."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        problem_mark = exc.problem_mark or exc.context_mark
        line = problem_mark.line + 1 if problem_mark else 1
        column = problem_mark.column + 1 if problem_mark else 1
        raise YamlError(Mark(file, line, column), f"invalid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise YamlError(Mark(file, 1, 1), f"invalid YAML: {exc}") from None
    except RecursionError:
        raise YamlError(Mark(file, 1, 1), "invalid YAML: nested too deeply") from None
    if node is None:
        return None
    builder = _Builder(file, EXPANSION_BASE + 10 * len(text), yaml_1_2)
    try:
        data = builder.build(node)
    except RecursionError:
        raise YamlError(Mark(file, 1, 1), "invalid YAML: nested too deeply") from None
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        where = Mark(file, mark.line + 1, mark.column + 1) if mark else Mark(file, 1, 1)
        raise YamlError(where, f"invalid YAML: {exc.problem}") from None
    if builder.duplicates:
        raise DuplicateKeys(builder.duplicates, data)
    return data


class DuplicateKeys(Exception):
    """Duplicate keys were found; ``data`` is the file as read with the first of each kept."""

    def __init__(self, errors: list[YamlError], data: Any) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors
        self.data = data


def load_file(path: Path, display_name: str | None = None, yaml_1_2: bool = False) -> Any:
    name = display_name or str(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before) - (before.rfind(b"\n") + 1) + 1
        raise YamlError(
            Mark(name, line, column),
            f"not UTF-8 text: byte 0x{raw[exc.start]:02x} cannot start or continue a character; save the file as UTF-8",
        ) from None
    return load_text(text, name, yaml_1_2)


def mark_of(container: Any, key: Any, default: Mark) -> Mark:
    """Where ``container[key]`` stands, or ``default`` when it was not read from YAML."""
    if isinstance(container, LocatedDict):
        return container.value_marks.get(key, default)
    if isinstance(container, LocatedList) and isinstance(key, int) and 0 <= key < len(container.item_marks):
        return container.item_marks[key]
    return default


def key_mark_of(container: Any, key: Any, default: Mark) -> Mark:
    if isinstance(container, LocatedDict):
        return container.key_marks.get(key, default)
    return default
