"""Rules that say what a form does once it is filled: ``condition: [active_loop: <form>, slot_was_set ...]``
with steps ``action: <form>``, ``active_loop: null``, then actions (Rasa's usual "submit the form" rule).

They become the end of the form's flow: the actions, under an ``if:`` on the rule's slot conditions when it has
any, several such rules of one form being one ``if`` / ``elif`` / ``else``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bots.located_yaml import Mark
from bots.rasa_import.responses import literal


@dataclass
class FormEnd:
    form: str
    condition: str | None  # an expression over slots; None: the rule has no slot condition
    actions: list[tuple[str, Mark]]
    name: str
    mark: Mark


def form_end(name: str, item: dict[str, Any], mark: Mark, domain_slots: dict[str, Any]) -> FormEnd | None:
    """The rule as a form's end, or None when it is something else (which is then listed). ``domain_slots`` are
    the domain's: a condition on another name (``requested_slot`` too) cannot be tested and leaves the rule listed."""
    condition = item.get("condition")
    if not isinstance(condition, list) or item.get("conversation_start"):
        return None
    forms = [c["active_loop"] for c in condition if isinstance(c, dict) and c.get("active_loop")]
    slots = [c["slot_was_set"] for c in condition if isinstance(c, dict) and "slot_was_set" in c]
    steps = item.get("steps")
    if len(forms) != 1 or len(forms) + len(slots) != len(condition) or not isinstance(steps, list):
        return None
    form = str(forms[0])
    if len(steps) < 3 or steps[0] != {"action": form} or steps[1] != {"active_loop": None}:
        return None
    actions: list[tuple[str, Mark]] = []
    for step in steps[2:]:
        if isinstance(step, dict) and "slot_was_set" in step:
            continue  # what the form recorded as it ended
        if not isinstance(step, dict) or "action" not in step:
            return None
        actions.append((str(step["action"]), mark))
    parts = [
        _slot_test(entry, domain_slots)
        for entries in slots
        for entry in (entries if isinstance(entries, list) else [entries])
    ]
    if not actions or any(part is None for part in parts):
        return None
    return FormEnd(form, " and ".join(p for p in parts if p) or None, actions, name, mark)


def _slot_test(entry: Any, domain_slots: dict[str, Any]) -> str | None:
    """``{name: value}`` is that value; a bare name, or a text or any slot, only whether it is set, as Rasa
    featurizes those slots (None, meaning untestable: a name the domain has no slot for)."""
    if isinstance(entry, str):
        slot, value = entry, _SET
    elif isinstance(entry, dict) and len(entry) == 1:
        slot, value = next(iter(entry.items()))
    else:
        return None
    if not isinstance(slot, str) or slot not in domain_slots:
        return None
    kind = domain_slots[slot].get("type") if isinstance(domain_slots[slot], dict) else None
    if value is _SET or (kind in ("text", "any") and value is not None):
        return f"{slot} is not None"
    return f"{slot} == {literal(value)}"


_SET = object()  # a bare slot name in slot_was_set: "it was set", whatever to
