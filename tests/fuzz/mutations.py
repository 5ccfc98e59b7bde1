"""Hypothesis strategies that break a bot's YAML files the ways people (and editors) do: a key deleted,
duplicated or given a value of the wrong type, text pasted in, a file cut short, anchors and aliases,
bytes that are no UTF-8."""

from __future__ import annotations

import copy
from typing import Any

import yaml
from hypothesis import strategies as st

from tests.fuzz.strategies import hostile_text, json_values

_WRONG_VALUES = st.one_of(
    json_values,
    st.sampled_from([None, True, 0, -1, 2.5, "", [], {}, [[]], {"en": None}, {"x": {"y": []}}]),
    st.sampled_from(["{{slot}}", "{missing}", "/payload{", "[", "*", "&", "!!python/object:os.system", "~"]),
)
_INSERTS = st.one_of(
    hostile_text.map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.sampled_from(
        [b"\t", b"\xef\xbb\xbf", b"\x00", b"\xff\xfe", b": ", b"- ", b"\n  - x\n", b"&a ", b"*a", b"<<: *a"]
    ),
    st.sampled_from([b"\n" + b"  " * 200 + b"deep: 1", b"{" * 300, b"!!binary x", b"? [a, b]\n: c"]),
)


def _paths(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in the data: keys of mappings and indexes of lists, depth first."""
    found = [path]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _paths(value, (*path, index))
    return found


def _parent(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


@st.composite
def _structural(draw: st.DrawFn, data: Any) -> bytes:
    """The file read, changed as data (a key gone, a value retyped, one value shared as an alias), written back."""
    data, aliased = copy.deepcopy(data), False
    for _ in range(draw(st.integers(1, 3))):
        places = [path for path in _paths(data) if path]
        if not places:
            break
        path = draw(st.sampled_from(places))
        parent, last = _parent(data, path), path[-1]
        action = draw(st.sampled_from(["retype", "delete", "alias", "rename"]))
        if action == "retype":
            parent[last] = draw(_WRONG_VALUES)
        elif action == "delete":
            del parent[last]
        elif action == "alias" and not aliased:  # one object in two places: yaml writes an anchor and an alias
            other = draw(st.sampled_from(places))
            if other[: len(path)] != path and path[: len(other)] != other:  # neither inside the other: no cycle
                parent[last], aliased = _parent(data, other)[other[-1]], True
        elif isinstance(parent, dict):
            parent[draw(st.one_of(hostile_text, st.integers(), st.booleans()))] = parent.pop(last)
    text = yaml.safe_dump(data, allow_unicode=draw(st.booleans()), sort_keys=False)
    return text.encode("utf-8", "surrogatepass")


@st.composite
def _textual(draw: st.DrawFn, raw: bytes) -> bytes:
    """The file's bytes changed as text: cut short, a line repeated (a duplicate key, or bad indentation),
    something pasted in."""
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(raw)))
        action = draw(st.sampled_from(["insert", "truncate", "repeat_line", "drop_line"]))
        if action == "insert":
            raw = raw[:at] + draw(_INSERTS) + raw[at:]
        elif action == "truncate":
            raw = raw[:at]
        else:
            lines = raw.split(b"\n")
            index = draw(st.integers(0, len(lines) - 1))
            if action == "repeat_line":
                lines.insert(index, lines[index])
            else:
                del lines[index]
            raw = b"\n".join(lines)
    return raw


def mutated(raw: bytes) -> st.SearchStrategy[bytes]:
    """A broken version of a YAML file's bytes."""
    data = yaml.safe_load(raw)
    return st.one_of(_structural(data), _textual(raw), st.tuples(_structural(data)).flatmap(lambda t: _textual(t[0])))
