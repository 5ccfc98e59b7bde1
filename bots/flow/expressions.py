"""Conditions (``if:``, ``when:``) and ``{name}`` templates in texts.

Conditions are Python-like expressions evaluated by simpleeval, which allows
no attribute tricks, imports or huge powers: flows come from business users,
not from developers. Both are parsed once at load time, so syntax errors and
unknown names are reported by ``threadline validate`` instead of at run time.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simpleeval import EvalWithCompoundTypes, InvalidExpression

# Only {name} and {name.field} are placeholders; any other braces (JSON in a
# payload such as /buy{"sku": "TR2"}) are literal text.
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\s*\}")


class ExpressionError(ValueError):
    """A condition that cannot be parsed or evaluated."""


@dataclass(frozen=True)
class Expression:
    source: str
    tree: ast.Expression = field(compare=False, repr=False)

    @classmethod
    def parse(cls, source: str) -> Expression:
        try:
            tree = ast.parse(source.strip(), mode="eval")
        except SyntaxError as exc:
            raise ExpressionError(f"invalid condition {source!r}: {exc.msg}") from None
        return cls(source, tree)

    def names(self) -> set[str]:
        """Top-level names the expression reads (function names excluded)."""
        called = {id(node.func) for node in ast.walk(self.tree) if isinstance(node, ast.Call)}
        return {node.id for node in ast.walk(self.tree) if isinstance(node, ast.Name) and id(node) not in called}

    def functions(self) -> set[str]:
        return {
            node.func.id
            for node in ast.walk(self.tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        }

    def evaluate(self, names: dict[str, Any], functions: dict[str, Callable[..., Any]]) -> Any:
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

    def render(self, values: dict[str, Any]) -> str:
        if "{" not in self.source and "}" not in self.source:
            return self.source

        def substitute(match: re.Match[str]) -> str:
            token = match.group(0)
            if token == "{{":
                return "{"
            if token == "}}":
                return "}"
            return format_value(lookup(values, match.group(1)))

        return _PLACEHOLDER.sub(substitute, self.source)


def lookup(values: dict[str, Any], dotted: str) -> Any:
    current: Any = values
    for part in dotted.split("."):
        if isinstance(current, dict):
            current = current.get(part)
        else:
            return None
    return current


def format_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
