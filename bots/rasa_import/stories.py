"""Rules and stories read as turns: what the customer says (one intent, or several with ``or``) and what the
bot does after it. Checkpoints are joined here, so each story is one line of turns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bots.located_yaml import Mark
from bots.rasa_import.form_ends import FormEnd, form_end
from bots.rasa_import.report import Report
from bots.rasa_import.source import RasaProject


@dataclass
class Turn:
    """The customer's intents (empty: the story starts with the bot) and the actions that answer them."""

    intents: list[str]
    mark: Mark
    actions: list[tuple[str, Mark]] = field(default_factory=list)


@dataclass
class Story:
    name: str
    kind: str  # "rule" or "story"
    mark: Mark
    turns: list[Turn]


def read_stories(project: RasaProject, report: Report, form_ends: list[FormEnd]) -> list[Story]:
    """The stories and rules as turns; a rule that ends a form goes to ``form_ends`` instead."""
    raw: list[tuple[str, str, Mark, list[Any]]] = []
    slots = project.domain.get("slots") or {}
    for file, data in project.data:
        for kind, section in (("rule", "rules"), ("story", "stories")):
            items = data.get(section) if isinstance(data, dict) else None
            for index, item in enumerate(items if isinstance(items, list) else []):
                mark = project.mark(items, index, file)
                if not isinstance(item, dict) or not isinstance(item.get("steps"), list):
                    report.skip(mark, "dialogue", f"{kind} {index + 1}", "it has no list of steps")
                    continue
                name = str(item.get(kind) or f"{kind} {index + 1}")
                ends = form_end(name, item, mark, slots) if kind == "rule" else None
                if ends is not None:
                    form_ends.append(ends)
                    continue
                if item.get("condition") or item.get("conversation_start"):
                    report.skip(
                        mark,
                        "dialogue",
                        f"rule {name!r}",
                        "a rule that applies only under a condition (an active form, a slot, the conversation's "
                        "start) has no counterpart; settings.cancel covers leaving a form, an 'if:' step a slot",
                    )
                    continue
                raw.append((name, kind, mark, item["steps"]))
    stories = []
    for name, kind, mark, steps in _join_checkpoints(raw, report):
        turns = _turns(name, steps, mark, report)
        if turns:
            stories.append(Story(name, kind, mark, turns))
            report.count("rules" if kind == "rule" else "stories")
    return stories


def _join_checkpoints(
    raw: list[tuple[str, str, Mark, list[Any]]], report: Report
) -> list[tuple[str, str, Mark, list[Any]]]:
    """A story that starts at a checkpoint continues every story that ends at it (one level, as most do)."""
    ending: dict[str, list[list[Any]]] = {}
    for _, _, _, steps in raw:
        if steps and isinstance(steps[-1], dict) and "checkpoint" in steps[-1]:
            ending.setdefault(str(steps[-1]["checkpoint"]), []).append(steps[:-1])
    out = []
    for name, kind, mark, steps in raw:
        first = steps[0] if steps else None
        if isinstance(first, dict) and "checkpoint" in first:
            heads = ending.get(str(first["checkpoint"]), [])
            if not heads:
                report.skip(mark, "dialogue", f"checkpoint {first['checkpoint']}", "no story ends at it")
            for head in heads:
                out.append((name, kind, mark, [*head, *steps[1:]]))
        else:
            out.append((name, kind, mark, steps))
    return out


def _turns(name: str, steps: list[Any], story: Mark, report: Report) -> list[Turn]:
    turns: list[Turn] = []
    for index, step in enumerate(steps):
        mark = getattr(steps, "item_marks", [story] * len(steps))[index] if hasattr(steps, "item_marks") else story
        if not isinstance(step, dict) or not step:
            report.skip(mark, "dialogue", f"step {index + 1} of {name!r}", "not a mapping")
        elif "intent" in step:
            turns.append(Turn([str(step["intent"])], mark))
            if step.get("entities"):
                report.skip(
                    mark,
                    "dialogue",
                    f"entities of intent {step['intent']} in {name!r}",
                    "a flow starts on the intent whatever entities come with it; its questions take the entities",
                )
        elif "or" in step:
            intents = [str(o["intent"]) for o in step["or"] if isinstance(o, dict) and "intent" in o]
            if len(intents) != len(step["or"]):
                report.skip(mark, "dialogue", f"'or' in {name!r}", "only alternatives of intents can be expressed")
            turns.append(Turn(intents, mark))
        elif "action" in step:
            if not turns:
                turns.append(Turn([], mark))
            turns[-1].actions.append((str(step["action"]), mark))
        elif "active_loop" in step or "checkpoint" in step:
            continue  # a form's start and end are its flow's; a checkpoint was joined above
        elif "slot_was_set" in step:
            report.skip(
                mark,
                "dialogue",
                f"slot_was_set in {name!r}",
                "flows do not branch on what a story recorded; the action or answer that sets the slot still does, "
                "and an 'if:' step can test it",
            )
        else:
            report.skip(mark, "dialogue", f"{next(iter(step))} in {name!r}", "no counterpart in a flow")
    return turns
