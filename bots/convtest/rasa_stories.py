"""Rasa's end-to-end test stories (``stories:`` with ``user:``, ``intent:``, ``action:``, ``slot_was_set``)
as conversation tests, so a ported Rasa bot keeps its tests.

Each ``user:`` (or ``intent:`` alone, sent as the ``/intent`` payload, as Rasa does) is one turn; the
``action: utter_*`` and ``bot:`` steps after it are what that turn must say, ``action: <custom>`` an action
it must run, ``slot_was_set`` the slots it must leave. What has no counterpart here (``active_loop``,
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
from bots.rasa_import.nlu import ANNOTATION

IGNORED_ACTIONS = ("action_listen",)


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

    return ANNOTATION.sub(plain, annotated), entities


def parse_stories(
    data: Any,
    file: str,
    responses: set[str],
    forms: set[str] | dict[str, str] = frozenset(),  # type: ignore[assignment]
) -> tuple[list[ConversationTest], list[Problem]]:
    """Stories as tests; ``responses`` are the bot's response keys an ``utter_*`` may name, ``forms`` its forms."""
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
        steps, unmapped, story_problems = _steps(story["steps"], mark, responses, forms)
        problems += story_problems
        if steps:
            tests.append(ConversationTest(name, mark, tuple(steps), unmapped=tuple(unmapped)))
        else:
            problems.append(Problem(mark, CODE, f"story {name!r} has no user step to run"))
    return tests, problems


def _steps(
    raw: list[Any], story: Mark, responses: set[str], forms: set[str] | dict[str, str]
) -> tuple[list[Step], list[tuple[Mark, str]], list[Problem]]:
    steps: list[Step] = []
    unmapped: list[tuple[Mark, str]] = []
    problems: list[Problem] = []
    expect: dict[str, Any] = {}
    payload_entities: dict[str, Any] | None = None
    form_fill = False  # an intent alone answered a form: the value the form took is what was typed
    carried: list[str] = []  # slots the intent's entities set (sent in its payload)
    skipped_form = False
    running: set[str] = set()  # forms the story has started and not yet left

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
            entities: dict[str, str] = {}
            if text is not None:  # "[health](insurance_type)" is typed "health", and that entity is expected
                text, entities = plain_text(text)
                text = text.strip()
            steps.append(Step(StepSpec(user=text or f"/{intent}"), mark))
            if intent:
                expect["intent"] = intent
            if entities:
                expect["entities"] = entities
            payload_entities = None if text else {}
            carried, skipped_form = [], False
            continue
        if not steps:
            unmapped.append((mark, f"{_describe(item)}: before the first user step, nothing to check it on"))
            continue
        if "active_loop" in item and item["active_loop"] is None:
            running.clear()
        if "active_loop" in item and item["active_loop"] is None and _form_opened(raw, index):
            skipped_form = True  # the story skips the form's questions: what follows comes after answers not given
        if skipped_form:
            unmapped.append((mark, f"{_describe(item)}: the story leaves out the form's questions, so it comes later"))
            continue
        if "action" in item and str(item["action"]) in forms:
            form = str(item["action"])
            if isinstance(forms, dict) and form not in running:
                expect["flow"] = forms[form]  # the form starts here: its flow must run
            else:
                unmapped.append((mark, f"action: {form}: the form runs as its flow; its slots are checked"))
            running.add(form)
            form_fill = payload_entities is not None and expect.get("intent") is not None
            payload_entities = None
            continue
        if "action" in item:
            payload_entities = None  # slots set after an action are the action's, not the message's
            form_fill = False
            _action(str(item["action"]), mark, expect, unmapped, responses)
        elif "bot" in item:
            expect.setdefault("matches", []).append(f"^{re.escape(str(item['bot']))}$")  # a whole reply
        elif "slot_was_set" in item:
            slots = expect.setdefault("slots", {})
            for entry in item["slot_was_set"] if isinstance(item["slot_was_set"], list) else []:
                if isinstance(entry, dict) and "requested_slot" in entry:
                    unmapped.append((mark, "slot_was_set: requested_slot: the form's question, not a slot of the bot"))
                    entry = {k: v for k, v in entry.items() if k != "requested_slot"}
                if isinstance(entry, dict) and payload_entities is not None:
                    payload_entities.update(entry)  # an intent alone, then its slots: the entities it carried
                    carried = list(payload_entities)
                    _carry(steps, payload_entities)
                if isinstance(entry, dict) and form_fill and entry and next(iter(entry.values())) is not None:
                    _typed(steps, expect, next(iter(entry.values())))  # the story kept the intent, not the text
                    for name in carried:
                        expect.get("slots", {}).pop(name, None)
                        unmapped.append(
                            (mark, f"slot_was_set: {name}: Rasa's entity in a text the story does not keep")
                        )
                    form_fill = False
                if isinstance(entry, dict):
                    slots.update(entry)
                else:
                    unmapped.append((mark, f"slot_was_set: {entry}: without a value, nothing to check"))
        else:
            unmapped.append((mark, f"{_describe(item)}: no counterpart in a conversation test"))
    close()
    return steps, unmapped, problems


def _carry(steps: list[Step], entities: dict[str, Any]) -> None:
    """Rasa's test stories write an intent's entities as the slots set after it; send them in its payload."""
    last = steps[-1]
    intent = str(last.spec.user).split("{", 1)[0]
    user = intent + json.dumps(entities, ensure_ascii=False) if entities else intent
    steps[-1] = Step(last.spec.model_copy(update={"user": user}), last.mark)


def _form_opened(raw: list[Any], index: int) -> bool:
    before = raw[index - 1] if index > 0 else None
    return isinstance(before, dict) and bool(before.get("active_loop"))


def _typed(steps: list[Step], expect: dict[str, Any], value: Any) -> None:
    """A form's answer recorded as an intent alone: replay it as the value typed (Rasa kept no text)."""
    last = steps[-1]
    steps[-1] = Step(last.spec.model_copy(update={"user": str(value)}), last.mark)
    expect.pop("intent", None)  # the intent was Rasa's reading of a text the story does not have


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
