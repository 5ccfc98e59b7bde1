"""Rasa's NLU data (intents, annotated entities, synonyms, regexes, lookup tables) as Threadline NLU and entities.

Threadline's NLU learns intents from plain examples and finds a bot's entities by lookup values and
patterns, so an annotated value becomes a lookup value of its entity and the annotation is taken out of
the example. What Threadline's NLU cannot use (roles, groups, regexes that are features only) is reported.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from bots.located_yaml import Mark
from bots.rasa_import.report import Report
from bots.rasa_import.source import RasaProject

# [text](entity), [text](entity:value), [text]{"entity": ..., "role": ..., "group": ..., "value": ...}
ANNOTATION = re.compile(r"\[(?P<text>[^\]]+)\](?:\((?P<short>[^)]+)\)|(?P<long>\{[^}]*\}))")


@dataclass
class Nlu:
    """Examples per intent, and per entity its lookup values (value -> synonyms) and patterns."""

    examples: dict[str, list[str]] = field(default_factory=dict)
    lookups: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    patterns: dict[str, list[str]] = field(default_factory=dict)
    annotated: set[str] = field(default_factory=set)


def _lines(block: Any, mark: Mark) -> list[tuple[str, Mark]]:
    """The ``- item`` lines of an ``examples: |`` block, each with its own line."""
    if isinstance(block, list):
        return [(str(item), mark) for item in block]
    out = []
    for offset, line in enumerate(str(block or "").splitlines(), start=1):
        text = line.strip()
        if text.startswith("- "):
            out.append((text[2:].strip(), Mark(mark.file, mark.line + offset, mark.column)))
    return out


def convert_nlu(project: RasaProject, report: Report) -> Nlu:
    nlu = Nlu()
    synonyms: list[tuple[str, list[str], Mark]] = []
    regexes: list[tuple[str, list[str], Mark]] = []
    for file, data in project.data:
        items = data.get("nlu") if isinstance(data, dict) else None
        for index, item in enumerate(items if isinstance(items, list) else []):
            mark = project.mark(items, index, file)
            if not isinstance(item, dict):
                report.skip(mark, "nlu", "an nlu item", "not a mapping")
                continue
            lines = _lines(item.get("examples"), project.mark(item, "examples", file))
            if "intent" in item:
                _intent(nlu, str(item["intent"]), lines, report)
            elif "synonym" in item:
                synonyms.append((str(item["synonym"]), [text for text, _ in lines], mark))
            elif "regex" in item:
                regexes.append((str(item["regex"]), [text for text, _ in lines], mark))
            elif "lookup" in item:
                values = nlu.lookups.setdefault(str(item["lookup"]), {})
                for text, _ in lines:
                    values.setdefault(text, [])
                report.count("lookup tables")
            else:
                report.skip(mark, "nlu", f"nlu item {next(iter(item), '')}", "not an intent, synonym, regex or lookup")
    report.count("intents", len(nlu.examples))
    _synonyms(nlu, synonyms, report)
    _regexes(nlu, regexes, report)
    return nlu


def _intent(nlu: Nlu, intent: str, lines: list[tuple[str, Mark]], report: Report) -> None:
    examples = nlu.examples.setdefault(intent, [])
    for text, mark in lines:
        plain = _strip_annotations(nlu, text, mark, report)
        if plain and plain not in examples:
            examples.append(plain)


def _strip_annotations(nlu: Nlu, text: str, mark: Mark, report: Report) -> str:
    def plain(match: re.Match[str]) -> str:
        return _entity(nlu, match, mark, report)

    return ANNOTATION.sub(plain, text).strip()


def _entity(nlu: Nlu, match: re.Match[str], mark: Mark, report: Report) -> str:
    text = match["text"]
    if match["short"]:
        entity, _, value = match["short"].partition(":")
        role = group = None
    else:
        try:
            spec = json.loads(match["long"])
        except ValueError:
            report.skip(mark, "nlu", f"annotation {match[0]}", "its {...} is not JSON")
            return text
        entity, value = str(spec.get("entity", "")), str(spec.get("value") or "")
        role, group = spec.get("role"), spec.get("group")
    entity = entity.strip()
    if role or group:
        report.skip(
            mark,
            "nlu",
            f"entity {entity} with role {role!r} / group {group!r} in {match[0]}",
            "the NLU finds the entity by its values but does not learn roles or groups from context; "
            "a from_entity mapping that asks for this role or group matches only an NLU that reports them",
        )
    nlu.annotated.add(entity)
    nlu.lookups.setdefault(entity, {}).setdefault(value.strip() or text, [])
    if value.strip() and value.strip() != text:
        nlu.lookups[entity][value.strip()].append(text)
    return text


def _synonyms(nlu: Nlu, synonyms: list[tuple[str, list[str], Mark]], report: Report) -> None:
    for value, words, mark in synonyms:
        folded = {w.casefold() for w in [value, *words]}  # lookups ignore case; Rasa compares synonyms in lower case
        entities = [name for name, values in nlu.lookups.items() if folded & {v.casefold() for v in values}]
        if not entities:
            report.skip(
                mark,
                "nlu",
                f"synonym {value}",
                "no entity is annotated or looked up with this value, so no entity can carry its synonyms",
            )
            continue
        for name in entities:
            values = nlu.lookups[name]
            for word in [w for w in values if w.casefold() in folded and w != value and not values[w]]:
                values.pop(word)  # a synonym is read as its value, never as a value of its own
            values[value] = [*values.get(value, []), *(w for w in words if w != value)]
        report.count("synonyms")


def _regexes(nlu: Nlu, regexes: list[tuple[str, list[str], Mark]], report: Report) -> None:
    for name, patterns, mark in regexes:
        if name in nlu.lookups or name in nlu.annotated:
            nlu.patterns.setdefault(name, []).extend(patterns)
            report.count("regexes")
        else:
            report.skip(
                mark,
                "nlu",
                f"regex {name}",
                "it names no entity, so in Rasa it is a feature of the intent classifier only; Threadline's NLU "
                "does not use it (add its words as examples, or declare an entity of that name)",
            )
