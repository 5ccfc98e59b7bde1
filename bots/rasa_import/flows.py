"""Stories, rules and forms as flows.

A story's first intent starts a flow that does what the story does. Where stories go on differently after
the same bot turn (``affirm`` or ``deny`` after a yes/no question), the flow asks that question and
branches on the intent of the answer. A form is a flow declared ``form:`` that asks its required slots,
then does what the first story running it does after the form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bots.located_yaml import Mark
from bots.rasa_import.form_ends import FormEnd
from bots.rasa_import.report import Report
from bots.rasa_import.responses import Response
from bots.rasa_import.slots import slot_mappings
from bots.rasa_import.source import RasaProject
from bots.rasa_import.stories import Story

IGNORED = {"action_listen"}
FALLBACK_INTENT = "nlu_fallback"


@dataclass
class Dialogue:
    project: RasaProject
    language: str
    responses: dict[str, Response]
    intents: set[str]  # intents with examples: only these can start a flow
    report: Report
    flows: dict[str, dict[str, Any]] = field(default_factory=dict)
    extra_slots: dict[str, dict[str, Any]] = field(default_factory=dict)
    top: dict[str, tuple[list[tuple[str, Mark]], Mark]] = field(default_factory=dict)
    after: dict[str, dict[str, tuple[list[tuple[str, Mark]], Mark]]] = field(default_factory=dict)
    form_rest: dict[str, list[tuple[str, Mark]]] = field(default_factory=dict)
    fallback: str | None = None

    @property
    def forms(self) -> dict[str, Any]:
        forms = self.project.domain.get("forms") or {}
        return forms if isinstance(forms, dict) else {}

    @property
    def actions(self) -> set[str]:
        """The domain's custom actions (the names its ``actions:`` list declares)."""
        actions = self.project.domain.get("actions") or []
        return {str(a) for a in actions} if isinstance(actions, list) else set()

    def text(self, value: str) -> dict[str, str]:
        return {self.language: value}


def build_flows(dialogue: Dialogue, stories: list[Story], form_ends: list[FormEnd]) -> None:
    for story in stories:
        previous: str | None = None
        for position, turn in enumerate(story.turns):
            if not turn.intents:
                previous = turn.actions[-1][0] if turn.actions else None
                continue
            for intent in turn.intents:
                if position == 0 or previous is None:
                    _first(dialogue.top, intent, turn.actions, turn.mark, dialogue.report, "starts")
                else:
                    branch = dialogue.after.setdefault(previous, {})
                    _first(branch, intent, turn.actions, turn.mark, dialogue.report, f"follows {previous} and")
            previous = turn.actions[-1][0] if turn.actions else previous
    for name in dialogue.forms:
        _form(dialogue, str(name))
    for intent, (actions, mark) in dialogue.top.items():
        if intent == FALLBACK_INTENT:
            dialogue.flows["fallback"] = {"steps": _steps(dialogue, actions, set()) or [{"end": True}]}
            dialogue.fallback = "fallback"
            continue
        if intent not in dialogue.intents:
            dialogue.report.skip(mark, "dialogue", f"intent {intent}", "it has no training examples to start a flow")
            continue
        steps = _steps(dialogue, actions, set())
        if len(steps) == 1 and "goto" in steps[0] and steps[0]["goto"] in dialogue.flows:
            dialogue.flows[steps[0]["goto"]]["trigger"]["intents"].append(intent)
        elif steps:
            dialogue.flows[_flow_name(dialogue, intent)] = {"trigger": {"intents": [intent]}, "steps": steps}
    done: set[str] = set()
    while pending := [f for f in dialogue.form_rest if f not in done]:
        for form in pending:
            done.add(form)
            if form in dialogue.flows:
                dialogue.flows[form]["steps"] += _steps(dialogue, dialogue.form_rest[form], set())
    for form in dict.fromkeys(end.form for end in form_ends):
        _end_form(dialogue, [end for end in form_ends if end.form == form])


def _end_form(dialogue: Dialogue, ends: list[FormEnd]) -> None:
    """A form's "submit" rules as the end of its flow: one ``if`` / ``elif`` per slot condition, ``else`` the
    rule without one. A story that already says what follows the form wins (the first story's, as elsewhere)."""
    form = ends[0].form
    flow = dialogue.flows.get(form)
    why = None
    if flow is None:
        why = f"the form {form} asks no question (see forms), so it has no flow to end"
    elif dialogue.form_rest.get(form):
        why = f"a story already says what follows the form {form}; the form's flow does that"
    if flow is None or why is not None:
        for end in ends:
            dialogue.report.skip(end.mark, "dialogue", f"rule {end.name!r}", why or "")
        return
    plain = [end for end in ends if end.condition is None]
    conditional = [end for end in ends if end.condition is not None]
    for extra in plain[1:]:
        dialogue.report.skip(extra.mark, "dialogue", f"rule {extra.name!r}", "another rule already ends this form")
    if not conditional:
        flow["steps"] += _steps(dialogue, plain[0].actions, set())
    else:
        branches = [{"if": end.condition, "then": _steps(dialogue, end.actions, set())} for end in conditional]
        step = branches[0]
        if branches[1:]:
            step["elif"] = branches[1:]
        if plain:
            step["else"] = _steps(dialogue, plain[0].actions, set())
        flow["steps"].append(step)
    dialogue.report.count("rules", len(ends) - len(plain[1:]))


def _first(table: dict[str, Any], intent: str, actions: list[Any], mark: Mark, report: Report, how: str) -> None:
    known = table.get(intent)
    if known is None:
        table[intent] = (actions, mark)
    elif [a for a, _ in known[0]] != [a for a, _ in actions]:
        report.skip(
            mark,
            "dialogue",
            f"intent {intent}",
            f"it {how} another story with other actions (at {known[1].file}:{known[1].line}); a flow does one "
            "thing per intent, so the first story's actions were kept",
        )


def _flow_name(dialogue: Dialogue, intent: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_]", "_", intent)
    return name if name not in dialogue.flows else f"{name}_flow"


def _steps(dialogue: Dialogue, actions: list[tuple[str, Mark]], seen: set[str]) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    for index, (action, mark) in enumerate(actions):
        if action in IGNORED:
            continue
        if action in dialogue.forms and action not in dialogue.flows:
            dialogue.report.skip(mark, "dialogue", f"form {action}", "the form asks no question here (see forms)")
            continue
        if action in dialogue.forms:
            rest = actions[index + 1 :]
            known = dialogue.form_rest.setdefault(action, rest)
            if [a for a, _ in known] != [a for a, _ in rest]:
                dialogue.report.skip(
                    mark,
                    "dialogue",
                    f"what follows form {action} here",
                    "another story does something else after this form; the form's flow does what the first does",
                )
            steps.append({"goto": action})
            return steps
        steps += _say_or_act(dialogue, action, mark)
    last = actions[-1][0] if actions else None
    if last is not None and last in dialogue.after and last not in seen:
        steps = _branch(dialogue, last, steps, seen | {last})
    return steps


def _say_or_act(dialogue: Dialogue, action: str, mark: Mark) -> list[dict[str, Any]]:
    if action.startswith("utter_"):
        response = dialogue.responses.get(action)
        if response is None:
            dialogue.report.skip(mark, "dialogue", f"action {action}", "the domain has no such response")
            return []
        return [_say(dialogue, response)]
    if action.startswith("action_") and action in RASA_DEFAULT_ACTIONS:
        dialogue.report.skip(mark, "dialogue", f"action {action}", RASA_DEFAULT_ACTIONS[action])
        return []
    return [{"action": action}]


RASA_DEFAULT_ACTIONS = {
    "action_restart": "Rasa's restart: Threadline restarts a thread when an action returns Restarted()",
    "action_deactivate_loop": "a form ends when its flow does; settings.cancel leaves every running flow",
    "action_default_fallback": "settings.fallback_flow names the flow that answers what was not understood",
    "action_two_stage_fallback": "no two-stage fallback; settings.fallback_flow names the flow instead",
    "action_back": "no undo step; an action may return UserUtteranceReverted()",
    "action_session_start": "Threadline runs action_session_start itself at a session's start",
    "action_default_ask_affirmation": "no two-stage fallback",
    "action_unlikely_intent": "no policy predicts intents; nothing to do",
}


def _say(dialogue: Dialogue, response: Response) -> dict[str, Any]:
    """The response by its key: its buttons, image and variants per channel go with it (texts_<language>.yml)."""
    return {"say": response.key}


def _branch(dialogue: Dialogue, after: str, steps: list[dict[str, Any]], seen: set[str]) -> list[dict[str, Any]]:
    """After ``after``, stories go on by the customer's answer: ask for it, then one branch per intent."""
    branches = {  # an answer that starts its own flow, doing the same, needs no branch: its flow runs
        intent: (actions, mark)
        for intent, (actions, mark) in dialogue.after[after].items()
        if intent not in dialogue.top or _names(dialogue.top[intent][0]) != _names(actions)
    }
    if not branches:
        return steps
    mark = next(iter(branches.values()))[1]
    if not steps or not ("say" in steps[-1] or "action" in steps[-1]):
        dialogue.report.skip(
            mark,
            "dialogue",
            f"the answers after {after} ({', '.join(branches)})",
            "a flow waits for an answer only at a question asked by a text or a custom action; here neither "
            "asks, so each answer starts its own flow if its intent starts one",
        )
        return steps
    slot = re.sub(r"[^A-Za-z0-9_]", "_", f"answer_to_{after}")
    dialogue.extra_slots[slot] = {"type": "any"}
    prompt = steps.pop()
    choices = [
        {"title": b["title"], "value": b["payload"].lstrip("/")}
        for b in prompt.get("buttons", [])
        if b.get("payload", "").lstrip("/") in branches
    ]
    ask: dict[str, Any] = {
        "ask": slot,
        "always": True,
        # a custom action that asks (e.g. action_ask_<slot> used in a story) is the question's prompt
        **({"prompt": prompt["say"]} if "say" in prompt else {"ask_action": prompt["action"]}),
        "mappings": [{"type": "from_intent", "intent": intent, "value": intent} for intent in branches],
    }
    if choices:
        ask.update(choices=choices, style="buttons")
    cases = [
        {"if": f"{slot} == '{intent}'", "then": _steps(dialogue, actions, seen) or [{"end": True}]}
        for intent, (actions, _) in branches.items()
    ]
    first, *others = cases
    branch: dict[str, Any] = {"if": first["if"], "then": first["then"]}
    if others:
        branch["elif"] = others
    return [*steps, ask, branch]


def _names(actions: list[tuple[str, Mark]]) -> list[str]:
    return [name for name, _ in actions]


def _form(dialogue: Dialogue, form: str) -> None:
    spec = dialogue.forms.get(form)
    required = spec.get("required_slots") if isinstance(spec, dict) else None
    mark = dialogue.project.mark(dialogue.forms, form)
    slots = list(required) if isinstance(required, (list, dict)) else []
    steps: list[dict[str, Any]] = []
    for slot in slots:
        prompt = next(
            (
                k
                for k in (f"utter_ask_{form}_{slot}", f"utter_ask_{slot}")
                if k in dialogue.responses and any(dialogue.responses[k].texts)
            ),
            None,
        )
        # Rasa asks with action_ask_<form>_<slot>, action_ask_<slot>, then the utter_ask_ responses, in that order
        asker = next((a for a in (f"action_ask_{form}_{slot}", f"action_ask_{slot}") if a in dialogue.actions), None)
        if asker is None and prompt is None:
            dialogue.report.skip(
                mark,
                "forms",
                f"form {form}: slot {slot}",
                f"no action action_ask_{form}_{slot} or action_ask_{slot} and no response utter_ask_{form}_{slot} "
                f"or utter_ask_{slot} with a text to ask it; the form asks no question for it",
            )
            continue
        ask: dict[str, Any] = {"ask": str(slot)}
        if asker is not None:
            ask["ask_action"] = asker
        else:
            ask["prompt"] = prompt
        mappings = slot_mappings(dialogue.project, form, str(slot), dialogue.report)
        if mappings:
            ask["mappings"] = mappings
        choices = _choices(dialogue, dialogue.responses[prompt], mappings) if asker is None and prompt else []
        if choices:
            ask.update(choices=choices, allow_other=True)
        steps.append(ask)
    if not steps:
        return
    dialogue.flows[form] = {"form": form, "trigger": {"intents": []}, "steps": steps}
    dialogue.report.count("forms")


def _choices(dialogue: Dialogue, prompt: Response, mappings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A prompt's buttons as the question's choices: a payload's one entity value, or a from_intent value."""
    by_intent = {
        m["intent"]: m["value"] for m in mappings if m["type"] == "from_intent" and isinstance(m["intent"], str)
    }
    choices = []
    for button in prompt.buttons:
        payload = str(button.get("payload", ""))
        match = re.match(r"/(\w+)(\{.*\})?", payload)  # what follows is ignored, as Rasa's parser does
        if not match:
            dialogue.report.skip(
                prompt.mark,
                "forms",
                f"button {button.get('title')!r} of {prompt.key}",
                "not a /intent payload, so no value for the question",
            )
            continue
        value: Any = by_intent.get(match[1])
        if match[2]:
            values = re.findall(r'"[^"]+"\s*:\s*"([^"]*)"', match[2])
            value = values[0] if len(values) == 1 else None
        if value is not None:
            choices.append({"title": dialogue.text(button["title"]), "value": value})
        else:
            dialogue.report.skip(
                prompt.mark,
                "forms",
                f"button {button['title']!r} of {prompt.key}",
                "a question shows choices, and this payload gives the slot no value (no entity value in it and no "
                "from_intent mapping for its intent)",
            )
    return choices
