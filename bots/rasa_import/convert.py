"""The import as one call: read the Rasa project, convert each part, write the bot folder and the report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bots.config import SUPPORTED_LANGUAGES
from bots.rasa_import.flows import Dialogue, build_flows
from bots.rasa_import.form_ends import FormEnd
from bots.rasa_import.nlu import Nlu, convert_nlu
from bots.rasa_import.report import Report
from bots.rasa_import.responses import convert_responses
from bots.rasa_import.slots import convert_slots
from bots.rasa_import.source import RasaProject, load_project
from bots.rasa_import.stories import read_stories
from bots.rasa_import.writer import write_bot

BUILT_IN_ENTITIES = {"number", "email", "date", "time", "phone", "money"}


def import_rasa(path: Path, out: Path) -> Report:
    """Convert the Rasa project at ``path`` into ``out`` (config.yaml, bot/, IMPORT_REPORT.md)."""
    project = load_project(path)
    report = Report()
    language = _language(project, report)
    responses = convert_responses(project, language, report)
    nlu = convert_nlu(project, report)
    slots = convert_slots(project, report)
    dialogue = Dialogue(project, language, responses, {i for i, e in nlu.examples.items() if e}, report)
    form_ends: list[FormEnd] = []
    build_flows(dialogue, read_stories(project, report, form_ends), form_ends)
    duckling = _duckling(project, report)
    _domain_notes(project, nlu, report, duckling)
    settings: dict[str, Any] = {"name": path.resolve().name, **_threshold(project, report)}
    if duckling:
        settings["duckling"] = duckling
    if dialogue.fallback:
        settings["fallback_flow"] = dialogue.fallback
    report.count("flows", len(dialogue.flows))
    files: dict[str, dict[str, Any]] = {
        "bot.yml": {
            "settings": settings,
            "slots": {**slots, **dialogue.extra_slots},
            "entities": _entities(nlu),
            "flows": dialogue.flows,
        },
        f"texts_{language}.yml": {
            "language": language,
            "responses": {k: r.value() for k, r in responses.items()},
        },
        f"nlu_{language}.yml": {"language": language, "nlu": {i: e for i, e in nlu.examples.items() if e}},
    }
    actions = next((p for p in (path / "actions", path / "actions.py") if p.exists()), None)
    write_bot(out, files, _config(project, language, actions is not None), report.markdown(path.name), actions)
    return report


def _language(project: RasaProject, report: Report) -> str:
    config = project.config if isinstance(project.config, dict) else {}
    language = str(config.get("language") or "en")
    if language not in SUPPORTED_LANGUAGES:
        report.skip(
            project.mark(config, "language", "config.yml"),
            "config",
            f"language {language}",
            f"Threadline's NLU reads {', '.join(SUPPORTED_LANGUAGES)}; the texts were written as {language} anyway",
        )
    for key in ("pipeline", "policies"):
        if config.get(key):
            report.skip(
                project.mark(config, key, "config.yml"),
                "config",
                key,
                "Threadline has one NLU (trained from the examples) and runs flows instead of policies; "
                "FallbackClassifier's threshold became settings.nlu_threshold",
            )
    return language


def _threshold(project: RasaProject, report: Report) -> dict[str, Any]:
    config = project.config if isinstance(project.config, dict) else {}
    for part in config.get("pipeline") or []:
        if isinstance(part, dict) and part.get("name") == "FallbackClassifier" and part.get("threshold") is not None:
            return {"nlu_threshold": float(part["threshold"])}
    return {}


def _entities(nlu: Nlu) -> dict[str, Any]:
    entities: dict[str, Any] = {}
    for name in sorted(set(nlu.lookups) | set(nlu.patterns)):
        spec: dict[str, Any] = {}
        values = nlu.lookups.get(name, {})
        if values:
            spec["lookup"] = [{value: syns} if syns else value for value, syns in values.items()]
        if nlu.patterns.get(name):
            spec["regex"] = nlu.patterns[name]
        entities[name] = spec
    return entities


DUCKLING_DIMENSIONS = ("time", "amount-of-money", "number")  # what settings.duckling gives (bots/flow/duckling.py)


def _duckling(project: RasaProject, report: Report) -> list[str]:
    """The Duckling dimensions the pipeline extracts that Threadline's built-in entities give in Duckling's shape;
    the others are listed."""
    config = project.config if isinstance(project.config, dict) else {}
    pipeline = config.get("pipeline") or []
    for index, part in enumerate(pipeline):
        if not isinstance(part, dict) or part.get("name") != "DucklingEntityExtractor":
            continue
        dimensions = part.get("dimensions")
        wanted = [str(d) for d in dimensions] if isinstance(dimensions, list) else list(DUCKLING_DIMENSIONS)
        for dimension in wanted:
            if dimension not in DUCKLING_DIMENSIONS:
                report.skip(
                    project.mark(pipeline, index, "config.yml"),
                    "config",
                    f"Duckling dimension {dimension}",
                    f"the built-in entities give {', '.join(DUCKLING_DIMENSIONS)} in Duckling's shape, not this one",
                )
        return [d for d in DUCKLING_DIMENSIONS if d in wanted]
    return []


def _domain_notes(project: RasaProject, nlu: Nlu, report: Report, duckling: list[str]) -> None:
    """What the domain declares that the bot folder has no place for, each said once with its line."""
    domain = project.domain
    for index, intent in enumerate(domain.get("intents") or []):
        name = next(iter(intent)) if isinstance(intent, dict) else str(intent)
        options = intent.get(name) if isinstance(intent, dict) else None
        mark = project.mark(domain["intents"], index)
        if not nlu.examples.get(name):
            report.skip(mark, "nlu", f"intent {name}", "no training examples: Threadline declares intents by them")
        if isinstance(options, dict) and (
            options.get("use_entities") not in (None, True) or options.get("ignore_entities")
        ):
            report.skip(
                mark,
                "nlu",
                f"intent {name}: use_entities / ignore_entities",
                "entities of every intent fill their slots; a question's mappings may exclude intents (not_intent)",
            )
    for index, entity in enumerate(domain.get("entities") or []):
        name = next(iter(entity)) if isinstance(entity, dict) else str(entity)
        mark = project.mark(domain["entities"], index)
        if isinstance(entity, dict):
            report.skip(mark, "nlu", f"entity {name}: roles and groups", "the NLU does not learn roles or groups")
        if name not in nlu.lookups and name not in nlu.patterns and name not in (*BUILT_IN_ENTITIES, *duckling):
            report.skip(
                mark,
                "nlu",
                f"entity {name}",
                "no annotated example, lookup table or regex gives its values, and it is no built-in entity "
                f"({', '.join(sorted(BUILT_IN_ENTITIES))}) nor one of Duckling's it gives (settings.duckling: "
                f"{', '.join(DUCKLING_DIMENSIONS)}); spaCy's entities are not extracted",
            )
    for key, why in DOMAIN_SETTINGS.items():
        if key in domain:
            report.skip(project.mark(domain, key), "config", f"domain {key}", why)


DOMAIN_SETTINGS = {
    "session_config": "a thread lasts across channels and sessions; see docs/migrating-from-rasa.md for session expiry",
    "config": "an entity always fills the slot of its name (store_entities_as_slots is always on)",
    "e2e_actions": "end-to-end bot texts have no counterpart; flows say responses by key",
}


def _config(project: RasaProject, language: str, in_process: bool) -> dict[str, Any]:
    endpoints = project.endpoints if isinstance(project.endpoints, dict) else {}
    endpoint = endpoints.get("action_endpoint")
    url = str((endpoint.get("url") if isinstance(endpoint, dict) else None) or "http://localhost:5055/webhook")
    actions: dict[str, Any] = {"mode": "in_process", "package": "actions"} if in_process else {}
    actions["url"] = url  # mode: remote calls the action server endpoints.yml names
    if not in_process:
        actions["mode"] = "remote"
    return {"bot": "bot", "languages": [language], "default_language": language, "actions": actions}
