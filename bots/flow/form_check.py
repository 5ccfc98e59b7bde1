"""Checks of the flows declared as Rasa forms (``form: <name>``), where a mistake would only show in a conversation.

A form's name is what actions see as ``active_loop`` and what ``validate_<form>`` and ``FollowupAction(<form>)``
refer to, so it must name one flow only, and a form without a question would never be active. Only declared
forms are validated, so a ``validate_<flow>`` action beside an undeclared flow is pointed out.
"""

from __future__ import annotations

from typing import Any

from bots.errors import Problem
from bots.flow.model import AskOp, Flow
from bots.located_yaml import mark_of


def check_forms(flows: dict[str, Flow], raws: dict[str, Any], problems: list[Problem], actions: set[str]) -> None:
    """Report a form declared by two flows (an error), a form that asks nothing and a validation action for
    a flow that is not declared a form, so it never runs (warnings)."""
    declared: dict[str, Flow] = {}
    for flow in flows.values():
        if flow.form is None:
            continue
        mark = mark_of(raws.get(flow.name), "form", flow.mark)
        first = declared.setdefault(flow.form, flow)
        if first is not flow:
            problems.append(
                Problem(
                    mark,
                    "FLOW-E020",
                    f"flow {flow.name!r}: form {flow.form!r} is already the form of flow {first.name!r} "
                    f"({first.mark.file} line {first.mark.line}); a form is one flow",
                )
            )
        if not any(isinstance(op, AskOp) for op in flow.ops):
            problems.append(
                Problem(
                    mark,
                    "FLOW-W020",
                    f"flow {flow.name!r} is the form {flow.form!r} but asks no question, so it is never active",
                    severity="warning",
                )
            )
    forms = {flow.form for flow in flows.values()}
    for flow in flows.values():
        validator = f"validate_{flow.name}"
        if flow.form is None and validator in actions and flow.name not in forms:
            problems.append(
                Problem(
                    flow.mark,
                    "FLOW-W021",
                    f"flow {flow.name!r} is not a form, so action {validator!r} never checks its answers; "
                    f"declare it with 'form: {flow.name}'",
                    severity="warning",
                )
            )
