"""Rasa slots as Threadline slots, and Rasa's slot mappings as the mappings of a form's questions.

Rasa attaches mappings to a slot (with conditions on the active form); Threadline attaches them to the
question that asks the slot, so a form's question takes the mappings that apply inside that form.
"""

from __future__ import annotations

from typing import Any

from bots.rasa_import.report import Report
from bots.rasa_import.source import RasaProject

# Rasa's own slots, which Threadline keeps by itself (the tracker has them without a declaration)
BUILT_IN = {"requested_slot", "session_started_metadata"}
MAPPING_KEYS = {"type", "entity", "role", "group", "intent", "not_intent", "value", "conditions"}


def _type(raw: Any) -> str:
    name = str(raw or "any").rsplit(".", 1)[-1].lower().removesuffix("slot")
    return {"text": "text", "bool": "bool", "boolean": "bool", "float": "number", "categorical": "choice"}.get(
        name, "any"
    )


def convert_slots(project: RasaProject, report: Report) -> dict[str, dict[str, Any]]:
    raw = project.domain.get("slots") or {}
    slots: dict[str, dict[str, Any]] = {}
    for name, spec in raw.items() if isinstance(raw, dict) else []:
        mark = project.mark(raw, name)
        if name in BUILT_IN:
            continue  # Threadline's tracker has it already
        spec = spec if isinstance(spec, dict) else {}
        kind = _type(spec.get("type"))
        if str(spec.get("type", "any")).rsplit(".", 1)[-1].lower() not in {
            "any",
            "anyslot",
            "text",
            "textslot",
            "bool",
            "booleanslot",
            "float",
            "floatslot",
            "categorical",
            "categoricalslot",
            "list",
            "listslot",
        }:
            report.skip(mark, "slots", f"slot {name} of type {spec.get('type')}", "a custom slot type: kept as 'any'")
        slot: dict[str, Any] = {"type": kind}
        if kind == "choice":
            slot["values"] = [str(v) for v in spec.get("values") or []] or ["__other__"]
        if kind == "number":
            slot.update({k: spec[k] for k in ("min_value", "max_value") if spec.get(k) is not None})
            for rasa, ours in (("min_value", "min"), ("max_value", "max")):
                if rasa in slot:
                    slot[ours] = slot.pop(rasa)
        if spec.get("initial_value") is not None:
            slot["initial"] = spec["initial_value"]
        slots[str(name)] = slot
        report.count("slots")
    return slots


def slot_mappings(project: RasaProject, form: str, slot: str, report: Report) -> list[dict[str, Any]]:
    """The mappings of ``slot`` that apply while ``form`` asks it: the form's own (Rasa 2) or the slot's (Rasa 3)."""
    forms = project.domain.get("forms") or {}
    required = forms.get(form, {}).get("required_slots") if isinstance(forms.get(form), dict) else None
    source: Any = required.get(slot) if isinstance(required, dict) else None
    if source is None:
        slots = project.domain.get("slots") or {}
        source = (slots.get(slot) or {}).get("mappings") if isinstance(slots.get(slot), dict) else None
    out: list[dict[str, Any]] = []
    for index, mapping in enumerate(source if isinstance(source, list) else []):
        mark = project.mark(source, index)
        if not isinstance(mapping, dict):
            continue
        conditions = mapping.get("conditions") or []
        if conditions and not any(isinstance(c, dict) and c.get("active_loop") == form for c in conditions):
            continue  # a mapping for another form
        converted = _mapping(mapping)
        if converted is None:
            report.skip(
                mark,
                "slots",
                f"slot {slot}: mapping of type {mapping.get('type')} (in form {form})",
                "only from_entity, from_intent, from_text and from_trigger_intent have a counterpart; a custom "
                "mapping is filled by the form's validation action (extract_<slot>), which still runs",
            )
        else:
            out.append(converted)
    return out


def _mapping(raw: dict[str, Any]) -> dict[str, Any] | None:
    kind = raw.get("type")
    if kind not in ("from_entity", "from_intent", "from_text", "from_trigger_intent"):
        return None
    out: dict[str, Any] = {"type": kind}
    for key in ("entity", "role", "group", "intent", "not_intent"):
        if raw.get(key) not in (None, []):
            out[key] = raw[key]
    if kind in ("from_intent", "from_trigger_intent"):
        value = raw.get("value")
        out["value"] = value if isinstance(value, (str, int, float, bool)) else str(value)
    return out
