"""The results for a person (each test, each step, what was expected and what the bot said) and as JSON."""

from __future__ import annotations

import json
from typing import Any

from bots.convtest.expect import reply_texts
from bots.convtest.observe import Observed, offered
from bots.convtest.runner import StepResult, TestResult
from bots.convtest.spec import StepSpec
from bots.types import Carousel, Media, outbound_to_json
from connectors.rest import render as render_rest

SYMBOLS = {"passed": "✓", "failed": "✗", "pending": "~", "fixed": "!"}


def describe(spec: StepSpec) -> str:
    """The step as written: ``user: hallo``, ``button: Zu klein``, ``event: product_viewed {"sku": "TR2"}``."""
    if spec.event is not None:
        return f"event: {spec.event}" + (f" {json.dumps(spec.data, ensure_ascii=False)}" if spec.data else "")
    for key in ("user", "button", "payload", "switch"):
        value = getattr(spec, key)
        if value is not None:
            return f"{key}: {value}"
    return "?"


def said(seen: Observed) -> list[str]:
    """What the customer saw, one line a message, with its buttons and media."""
    lines = []
    texts = iter(reply_texts(seen.replies))
    for message in seen.replies:
        if isinstance(message, Carousel):
            lines.append(f"[carousel] {' | '.join(card.title for card in message.cards)}")
            continue
        prefix = f"[{message.media}] " if isinstance(message, Media) else ""
        text = next(texts, "") if not isinstance(message, Media) or message.caption else ""
        titles = [choice.title for choice in offered([message])]
        lines.append(f"{prefix}{text}" + (f"  [{' | '.join(titles)}]" if titles else ""))
    return lines or ["(no reply)"]


def _step_lines(number: int, result: StepResult, verbose: bool) -> list[str]:
    failed = bool(result.failures) or result.seen.error is not None
    if not failed and not verbose:
        return []
    mark = "✗" if failed else "✓"
    lines = [f"    {mark} step {number} (line {result.step.mark.line}) {describe(result.step.spec)}"]
    if result.seen.error is not None:
        return lines + [f"        cannot play it: {result.seen.error}"]
    lines += [f"        expected: {failure}" for failure in result.failures]
    seen = result.seen
    about = f"language {seen.language}, intent {seen.intent}, flows {', '.join(seen.flows) or 'none'}"
    lines += [f"        the bot said ({about}):"] + [f"          {line}" for line in said(seen)]
    expected_slots = (result.step.spec.expect.slots or {}) if result.step.spec.expect else {}
    if result.failures and expected_slots:
        shown = {k: v for k, v in seen.slots.items() if v is not None or k in expected_slots}
        lines.append(f"        slots: {json.dumps(shown, ensure_ascii=False, default=str)}")
    return lines


def text_report(results: list[TestResult], verbose: bool = False) -> str:
    lines: list[str] = []
    file = None
    for result in results:
        test = result.test
        if test.mark.file != file:
            file = test.mark.file
            lines.append(file)
        played = len(result.steps)
        ran = f"{played}/{len(test.steps)} steps" if played < len(test.steps) else f"{played} steps"
        status = result.status
        lines.append(f"  {SYMBOLS[status]} {test.name}  (line {test.mark.line}, {ran})")
        if status == "pending":
            lines.append(f"    pending: {test.pending}")
        elif status == "fixed":
            lines.append(f"    passes now, though pending ({test.pending}): remove 'pending' so it guards the fix")
        for number, step in enumerate(result.steps, 1):
            lines += _step_lines(number, step, verbose or status == "failed")
        lines += [f"    not mapped: line {m.line}: {why}" for m, why in test.unmapped]
    lines.append(summary(results))
    return "\n".join(lines)


def counts(results: list[TestResult]) -> dict[str, int]:
    """Tests by outcome; a pending test that passes counts as failed."""
    statuses = [r.status for r in results]
    return {
        "tests": len(results),
        "passed": statuses.count("passed"),
        "failed": statuses.count("failed") + statuses.count("fixed"),
        "pending": statuses.count("pending"),
    }


def summary(results: list[TestResult]) -> str:
    count = counts(results)
    unmapped = sum(len(r.test.unmapped) for r in results)
    line = f"{count['tests']} tests: {count['passed']} passed, {count['failed']} failed"
    line += f", {count['pending']} pending" if count["pending"] else ""
    steps = "step" if unmapped == 1 else "steps"
    return line + (f" ({unmapped} Rasa story {steps} not mapped)" if unmapped else "")


def json_report(results: list[TestResult]) -> dict[str, Any]:
    count = counts(results)
    return {
        "passed": count["failed"] == 0,
        "summary": count,
        "tests": [
            {
                "name": r.test.name,
                "file": r.test.mark.file,
                "line": r.test.mark.line,
                "status": r.status,
                "pending": r.test.pending,
                "steps": [_step_json(s) for s in r.steps],
                "not_mapped": [{"line": m.line, "reason": why} for m, why in r.test.unmapped],
            }
            for r in results
        ],
    }


def _step_json(result: StepResult) -> dict[str, Any]:
    seen = result.seen
    return {
        "line": result.step.mark.line,
        "step": describe(result.step.spec),
        "passed": not result.failures and seen.error is None,
        "failures": result.failures,
        "error": seen.error,
        "replies": [outbound_to_json(m) for m in seen.replies],
        # what a Rasa REST client receives for them (the REST channel's own renderer)
        **({"rest": render_rest(seen.recipient, seen.replies)} if seen.channel == "rest" else {}),
        "language": seen.language,
        "intent": seen.intent,
        "flows": seen.flows,
        "actions": seen.actions,
        "slots": seen.slots,
        "handoff": seen.handoff,
    }
