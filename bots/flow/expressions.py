"""Conditions (``if:``, ``when:``) and ``{name}`` templates in texts.

Conditions are Python-like expressions evaluated by simpleeval, which allows
no attribute tricks, imports or huge powers: flows come from business users,
not from developers. Both are parsed once at load time, so syntax errors and
unknown names are reported by ``threadline validate`` instead of at run time.

Names may contain hyphens and dots (``amount-of-money``, Duckling's usual entity
name, or ``order.id``), as Rasa bots name their slots: in a condition a
hyphen between two words with no space around it joins them into one name
(``total - discount`` with spaces subtracts), and a dotted name is looked up
as a whole name before it is read as a field of a shorter one.
"""

from __future__ import annotations

import ast
import io
import keyword
import re
import tokenize
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from simpleeval import EvalWithCompoundTypes, InvalidExpression

# A name: words joined by hyphens or dots, each word starting with a letter or "_" ("amount-of-money",
# "order.id"), so "x-1" in a condition stays a subtraction.
NAME = r"[A-Za-z_][A-Za-z0-9_]*(?:[-.][A-Za-z_][A-Za-z0-9_]*)*"
# Only {name} and {name.field} are placeholders; any other braces (JSON in a
# payload such as /buy{"sku": "TR2"}) are literal text.
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{\s*(" + NAME + r")\s*\}")
_ALIAS = "tl_name_{}_"  # what a joined name is called in the parsed condition


class ExpressionError(ValueError):
    """A condition that cannot be parsed or evaluated."""


@dataclass(frozen=True)
class Expression:
    source: str
    tree: ast.Expression = field(compare=False, repr=False)
    # (alias in the parsed text, the name as written): "amount-of-money" and "order.id" are one name each
    aliases: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, source: str) -> Expression:
        try:
            parsed, aliases = _join_names(source.strip())
            tree = ast.parse(parsed, mode="eval")
        except (SyntaxError, tokenize.TokenError) as exc:
            message = exc.msg if isinstance(exc, SyntaxError) else str(exc.args[0])
            raise ExpressionError(f"invalid condition {source!r}: {message}") from None
        return cls(source, tree, aliases)

    def names(self) -> set[str]:
        """Names the expression reads, as written ("amount-of-money", "event.reason"; function names excluded)."""
        written = dict(self.aliases)
        called = {id(node.func) for node in ast.walk(self.tree) if isinstance(node, ast.Call)}
        return {
            written.get(node.id, node.id)
            for node in ast.walk(self.tree)
            if isinstance(node, ast.Name) and id(node) not in called
        }

    def functions(self) -> set[str]:
        return {
            node.func.id
            for node in ast.walk(self.tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        }

    def evaluate(self, names: dict[str, Any], functions: dict[str, Callable[..., Any]]) -> Any:
        if self.aliases:
            names = {**names, **{alias: lookup(names, written) for alias, written in self.aliases}}
        evaluator = EvalWithCompoundTypes(names=names, functions=functions)
        try:
            return evaluator.eval(self.source.strip(), previously_parsed=self.tree.body)
        except (InvalidExpression, TypeError, ValueError, ArithmeticError, KeyError, AttributeError) as exc:
            raise ExpressionError(f"condition {self.source!r} failed: {exc}") from None


@dataclass(frozen=True)
class Template:
    """A text with ``{name}`` or ``{name.field}`` placeholders; ``{{`` and ``}}`` are literal braces."""

    source: str

    def names(self) -> list[str]:
        """Dotted names the placeholders use."""
        return [match.group(1) for match in _PLACEHOLDER.finditer(self.source) if match.group(1)]

    def render(self, values: dict[str, Any], shown: Callable[[str, Any], str | None] | None = None) -> str:
        """The text filled in; ``shown`` may write a name's value its own way (a date in the thread's language)."""
        if "{" not in self.source and "}" not in self.source:
            return self.source

        def substitute(match: re.Match[str]) -> str:
            token = match.group(0)
            if token == "{{":
                return "{"
            if token == "}}":
                return "}"
            value = lookup(values, match.group(1))
            custom = shown(match.group(1), value) if shown is not None else None
            return custom if custom is not None else format_value(value)

        return _PLACEHOLDER.sub(substitute, self.source)


def lookup(values: dict[str, Any], dotted: str) -> Any:
    """A name's value: at each level the longest dotted key there ("order.id" as a slot), else a field."""
    parts = dotted.split(".")
    current: Any = values
    at = 0
    while at < len(parts):
        if not isinstance(current, dict):
            return None
        key = next(
            (".".join(parts[at:end]) for end in range(len(parts), at, -1) if ".".join(parts[at:end]) in current), None
        )
        if key is None:
            return None
        current = current[key]
        at += key.count(".") + 1
    return current


def known_name(dotted: str, known: Iterable[str]) -> str | None:
    """The longest leading part of a dotted name that is a known name ("order.id.x" -> "order.id"), if any."""
    names = set(known)
    parts = dotted.split(".")
    return next((".".join(parts[:end]) for end in range(len(parts), 0, -1) if ".".join(parts[:end]) in names), None)


def _join_names(source: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The condition with each name written with hyphens or dots ("amount-of-money > 10") as one identifier.

    Python's tokenizer keeps strings whole, so a hyphen inside quotes is left alone; only words with no space
    between them and the hyphen or dot are joined, and never keywords or a method call's name.
    """
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    starts = [0]  # where each line starts in the source
    for line in source.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    pieces: list[str] = []
    aliases: dict[str, str] = {}
    last_end = (1, 0)
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.type == tokenize.ENDMARKER:
            break
        gap = source[_offset(starts, last_end) : _offset(starts, token.start)]
        end = index
        while _is_word(tokens[end]) and end + 2 < len(tokens):
            joiner, word = tokens[end + 1], tokens[end + 2]
            if joiner.string not in "-." or joiner.start != tokens[end].end or word.start != joiner.end:
                break
            if not _is_word(word):
                break
            end += 2
        if end > index and (end + 1 >= len(tokens) or tokens[end + 1].string != "("):
            written = "".join(t.string for t in tokens[index : end + 1])
            alias = next((a for a, w in aliases.items() if w == written), _ALIAS.format(len(aliases)))
            aliases[alias] = written
            pieces += [gap, alias]
            last_end = tokens[end].end
            index = end + 1
            continue
        pieces += [gap, token.string]
        last_end = token.end
        index += 1
    return "".join(pieces), tuple(aliases.items())


def _is_word(token: tokenize.TokenInfo) -> bool:
    return token.type == tokenize.NAME and not keyword.iskeyword(token.string)


def _offset(starts: list[int], position: tuple[int, int]) -> int:
    """A tokenizer's (line, column) as an offset in the source."""
    line, column = position
    return starts[min(line - 1, len(starts) - 1)] + column


def format_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
