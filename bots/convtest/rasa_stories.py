"""Rasa's end-to-end test stories (``stories:`` with ``user:``, ``intent:``, ``action:``, ``slot_was_set``)
as conversation tests, so a ported Rasa bot keeps its tests.

Each ``user:`` (or ``intent:`` alone, sent as the ``/intent`` payload, as Rasa does) is one turn; its text
is sent without Rasa's entity annotations (``[ST-234567](order_number)`` is sent as "ST-234567", and the
NLU must find that entity). The ``action: utter_*`` and ``bot:`` steps after it are what that turn must
say, ``action: <custom>`` an action it must run, ``action: <form>`` and ``active_loop: <form>`` the flow of
that form, ``slot_was_set`` the slots it must leave. What has no counterpart here (``active_loop: null``,
``checkpoint``, ``or``, an ``utter_`` with no response of that name) is listed as not mapped, never
silently dropped.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bots.convtest.spec import CODE, ConversationTest, Expect, Step, StepSpec
from bots.errors import Problem
from bots.located_yaml import LocatedDict, Mark, mark_of

IGNORED_ACTIONS = ("action_listen",)
# [text](entity), [text](entity:value) (Rasa 1's synonyms) and [text]{"entity": "name", "value": "v", ...}
_ANNOTATION = re.compile(r"\[(?P<text>[^\]]+)\](?:\((?P<short>[^)]+)\)|(?P<long>\{[^}]*\}))")


def plain_text(annotated: str) -> tuple[str, dict[str, str]]:
    """The text a customer types, and each annotated entity's value: "[ST-234567](order_number)" is
    ("ST-234567", {"order_number": "ST-234567"}). An annotation that cannot be read is left as typed."""
    entities: dict[str, str] = {}

    def plain(match: re.Match[str]) -> str:
        text, short, long = match.group("text"), match.group("short"), match.group("long")
        if short is not None:
            name, _, value = short.partition(":")
            entities[name.strip()] = value.strip() or text
            return text
        try:
            spec = json.loads(long)
        except ValueError:
            return match.group(0)
        if not isinstance(spec, dict) or not isinstance(spec.get("entity"), str):
            return match.group(0)
        entities[spec["entity"]] = str(spec.get("value", text))
        return text

    return _ANNOTATION.sub(plain, annotated), entities


def parse_stories(
    data: Any, file: str, responses: set[str], forms: dict[str, str] | None = None
) -> tuple[list[ConversationTest], list[Problem]]:
    """Stories as tests; ``responses`` are the bot's response keys an ``utter_*`` may name, ``forms`` each form's
    flow."""
    top = Mark(file, 1, 1)
    stories = data.get("stories") if isinstance(data, dict) else None
    if not isinstance(stories, list):
        return [], [Problem(top, CODE, "'stories' must be a list of stories")]
    tests: list[ConversationTest] = []
    problems: list[Problem] = []
    for index, story in enumerate(stories):
        mark = mark_of(stories, index, top)
        if not isinstance(story, dict) or not isinstance(story.get("steps"), list):
            problems.append(Problem(mark, CODE, "a story needs 'story' (its name) and 'steps' (a list)"))
            continue
        name = str(story.get("story") or f"story {index + 1}")
        steps, unmapped, story_problems = _steps(story["steps"], mark, responses, forms or {})
        problems += story_problems
        if steps:
            tests.append(ConversationTest(name, mark, tuple(steps), unmapped=tuple(unmapped)))
        else:
            problems.append(Problem(mark, CODE, f"story {name!r} has no user step to run"))
    return tests, problems


def _steps(
    raw: list[Any], story: Mark, responses: set[str], forms: dict[str, str]
) -> tuple[list[Step], list[tuple[Mark, str]], list[Problem]]:
    steps: list[Step] = []
    unmapped: list[tuple[Mark, str]] = []
    problems: list[Problem] = []
    expect: dict[str, Any] = {}

    def close() -> None:
        if steps and expect:
            last = steps[-1]
            steps[-1] = Step(last.spec.model_copy(update={"expect": Expect(**expect)}), last.mark)
        expect.clear()

    for index, item in enumerate(raw):
        mark = mark_of(raw, index, story)
        if not isinstance(item, LocatedDict) or not item:
            problems.append(Problem(mark, CODE, "a story step must be a mapping such as 'user: ...'"))
            continue
        if "user" in item or "intent" in item:
            close()
            text, intent = item.get("user"), item.get("intent")
            if text is not None and not isinstance(text, str) or intent is not None and not isinstance(intent, str):
                problems.append(Problem(mark, CODE, "'user' and 'intent' must be text"))
                continue
            plain, entities = plain_text(text) if text is not None else (f"/{intent}", {})
            steps.append(Step(StepSpec(user=plain.strip()), mark))
            if intent:
                expect["intent"] = intent
            if entities:
                expect["entities"] = entities
            continue
        if not steps:
            unmapped.append((mark, f"{_describe(item)}: before the first user step, nothing to check it on"))
            continue
        if "action" in item and str(item["action"]) in forms:
            expect["flow"] = forms[str(item["action"])]  # the form runs
        elif "active_loop" in item and item["active_loop"] in forms:
            expect["flow"] = forms[str(item["active_loop"])]
        elif "action" in item:
            _action(str(item["action"]), mark, expect, unmapped, responses)
        elif "bot" in item:
            expect.setdefault("matches", []).append(f"^{re.escape(str(item['bot']))}$")  # a whole reply
        elif "slot_was_set" in item:
            slots = expect.setdefault("slots", {})
            for entry in item["slot_was_set"] if isinstance(item["slot_was_set"], list) else []:
                if isinstance(entry, dict):
                    slots.update(entry)
                else:
                    unmapped.append((mark, f"slot_was_set: {entry}: without a value, nothing to check"))
        else:
            unmapped.append((mark, f"{_describe(item)}: no counterpart in a conversation test"))
    close()
    return steps, unmapped, problems


def _action(
    name: str, mark: Mark, expect: dict[str, Any], unmapped: list[tuple[Mark, str]], responses: set[str]
) -> None:
    if name in IGNORED_ACTIONS:
        return
    if name.startswith("utter_"):
        key = name if name in responses else name.removeprefix("utter_")
        if key in responses:
            expect.setdefault("response", []).append(key)
        else:
            unmapped.append((mark, f"action: {name}: the bot has no response {name} or {name.removeprefix('utter_')}"))
        return
    expect.setdefault("actions", []).append(name)


def _describe(item: LocatedDict) -> str:
    key = next(iter(item))
    return f"{key}: {item[key]}"
