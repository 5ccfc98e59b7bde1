"""Load a bot folder: read every YAML file, check everything, report all problems at once.

A user's mistake must never surface as a Python traceback. Every problem
carries the file, line and column where it stands, and the loader keeps
going after the first one so a single run of ``threadline validate`` shows
the whole list.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bots.errors import Problem, ProblemsError, did_you_mean
from bots.flow import schema as s
from bots.flow.compiler import FlowCompiler, Reference, reachable
from bots.flow.expressions import NAME, Template, known_name
from bots.flow.file_check import validate_file
from bots.flow.form_check import check_forms
from bots.flow.model import (
    ActionOp,
    AskOp,
    Bot,
    BranchOp,
    CancelDef,
    DigressionDef,
    EndOp,
    EntityDef,
    EventTriggerDef,
    Flow,
    GotoFlowOp,
    HandoffOp,
    JumpOp,
    SessionDef,
    SlotDef,
    Trigger,
    UnsureDef,
)
from bots.flow.payload_check import unanswered_payloads
from bots.flow.response_loading import ResponseCollector, condition_name_problems
from bots.flow.widget import widget_def
from bots.located_yaml import DuplicateKeys, LocatedDict, Mark, YamlError, key_mark_of, load_file, mark_of
from bots.types import OUT_OF_SCOPE

BUILTIN_NAMES = frozenset({"language", "channel", "fallback_streak", "event", "public_url", "thread", "recent"})
BUILTIN_FUNCTIONS = frozenset({"count", "last", "hours_since", "len", "int", "float", "str", "lower", "upper"})
_FLOW_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")
_SLOT_NAME = re.compile(rf"^{NAME}$")  # "amount-of-money", "order.id": as Rasa and Duckling name them
_NAME_RULE = "use words of letters, digits and _, joined by - or . (each word starting with a letter or _)"


@dataclass(frozen=True)
class LoadResult:
    bot: Bot | None
    problems: list[Problem]

    def __post_init__(self) -> None:
        self.problems.sort(key=lambda p: (p.mark.file, p.mark.line, p.mark.column))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


def _is_code(bot_dir: Path, path: Path) -> bool:
    """Whether ``path`` lies in a Python package (a folder with ``__init__.py``) below the bot folder.

    Such a folder is code, e.g. the custom actions package, and its YAML is its own
    configuration (a Rasa project's ``actions/custom_forms_config.yml``), not part of the bot.
    """
    folder = path.parent
    while folder != bot_dir and bot_dir in folder.parents:
        if (folder / "__init__.py").is_file():
            return True
        folder = folder.parent
    return False


def bot_files(bot_dir: Path) -> list[Path]:
    """The bot's YAML files: every ``*.yml``/``*.yaml`` below the folder except hidden ones and Python packages'."""
    return sorted(
        path
        for path in bot_dir.rglob("*")
        if path.suffix in (".yml", ".yaml")
        and path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(bot_dir).parts)
        and not _is_code(bot_dir, path)
    )


def content_hash(bot_dir: Path) -> str:
    digest = hashlib.sha256()
    for path in bot_files(bot_dir):
        digest.update(str(path.relative_to(bot_dir)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


class _Collector:
    """Merges the sections of all files, remembering where each definition came from."""

    def __init__(self, languages: tuple[str, ...], problems: list[Problem]) -> None:
        self.languages = languages
        self.problems = problems
        self.settings: tuple[s.SettingsSpec, LocatedDict, Mark] | None = None
        self.flows: dict[str, tuple[s.FlowSpec, Any, Mark]] = {}
        self.slots: dict[str, tuple[s.SlotSpec, Any, Mark]] = {}
        self.texts = ResponseCollector(languages, problems)
        self.responses = self.texts.responses  # every check of texts reads the words here
        self.examples: dict[str, dict[str, list[str]]] = {}
        self.example_marks: dict[str, Mark] = {}
        self.entities: list[EntityDef] = []

    def error(self, mark: Mark, code: str, message: str) -> None:
        self.problems.append(Problem(mark, code, message))

    def warning(self, mark: Mark, code: str, message: str) -> None:
        self.problems.append(Problem(mark, code, message, "warning"))

    def add(self, spec: s.BotFileSpec, raw: LocatedDict, top: Mark) -> None:
        language = spec.language
        if language is not None and language not in self.languages:
            self.warning(
                mark_of(raw, "language", top),
                "BOT-W001",
                f"language {language!r} is not in the configured languages; this file is ignored",
            )
            return
        if spec.settings is not None:
            if self.settings is not None:
                first = self.settings[2]
                self.error(
                    key_mark_of(raw, "settings", top),
                    "BOT-E002",
                    f"settings are defined twice (first in {first.file} line {first.line})",
                )
            else:
                self.settings = (spec.settings, raw["settings"], key_mark_of(raw, "settings", top))
        for section, target in (("flows", self.flows), ("slots", self.slots)):
            raw_section: Any = raw.get(section)  # the YAML as read, for marks
            for name, value in getattr(spec, section).items():
                mark = key_mark_of(raw_section, name, top)
                pattern = _FLOW_NAME if section == "flows" else _SLOT_NAME
                if not isinstance(name, str) or not pattern.match(name):
                    rule = "use letters, digits, _ and -" if section == "flows" else _NAME_RULE
                    self.error(mark, "BOT-E003", f"invalid {section[:-1]} name {name!r}: {rule}")
                    continue
                if section == "slots" and name in BUILTIN_NAMES:
                    self.error(mark, "BOT-E003", f"slot name {name!r} is reserved for a built-in value")
                    continue
                if name in target:
                    first = target[name][2]
                    self.error(
                        mark,
                        "BOT-E004",
                        f"duplicate {section[:-1]} {name!r} (first defined in {first.file} line {first.line})",
                    )
                    continue
                target[name] = (value, raw_section[name], mark)
        self.texts.add(spec, raw, top, language)
        self._entities(spec, raw, top, language)
        if spec.nlu:
            if language is None:
                self.error(
                    key_mark_of(raw, "nlu", top),
                    "BOT-E005",
                    "nlu examples need the file's language: add `language: <code>` at the top",
                )
            else:
                per_language = self.examples.setdefault(language, {})
                for intent, examples in spec.nlu.items():
                    per_language.setdefault(intent, []).extend(str(e) for e in examples)
                    self.example_marks.setdefault(intent, key_mark_of(raw["nlu"], intent, top))

    def _entities(self, spec: s.BotFileSpec, raw: LocatedDict, top: Mark, language: str | None) -> None:
        raw_section = raw.get("entities")
        for name, entity in spec.entities.items():
            mark = key_mark_of(raw_section, name, top)
            if not isinstance(name, str) or not _SLOT_NAME.match(name):
                self.error(mark, "BOT-E003", f"invalid entity name {name!r}: {_NAME_RULE}")
                continue
            raw_entity = raw_section.get(name) if isinstance(raw_section, dict) else None
            patterns = []
            for index, source in enumerate(entity.regex):
                try:
                    re.compile(source)
                    patterns.append(source)
                except re.error as exc:
                    self.error(
                        mark_of(raw_entity.get("regex") if isinstance(raw_entity, dict) else None, index, mark),
                        "BOT-E012",
                        f"entity {name!r}: invalid regex {source!r}: {exc}",
                    )
            lookup: list[tuple[str, str]] = []
            for item in entity.lookup:
                if isinstance(item, str):
                    lookup.append((item, item))
                else:  # {value: [synonyms]}
                    for value, synonyms in item.items():
                        lookup += [(value, value)] + [(synonym, value) for synonym in synonyms]
            self.entities.append(EntityDef(name, language, tuple(patterns), tuple(lookup)))


def _slot(name: str, spec: s.SlotSpec, raw: Any, mark: Mark, problems: list[Problem]) -> SlotDef:
    pattern = None
    if spec.pattern is not None:
        try:
            pattern = re.compile(spec.pattern)
        except re.error as exc:
            problems.append(
                Problem(mark_of(raw, "pattern", mark), "BOT-E007", f"slot {name!r}: invalid pattern: {exc}")
            )
    if spec.normalize is not None and pattern is not None:
        allowed = set(pattern.groupindex) | {"match"}
        for field in re.findall(r"\{([^{}]*)\}", spec.normalize):
            if field not in allowed:
                problems.append(
                    Problem(
                        mark_of(raw, "normalize", mark),
                        "BOT-E007",
                        f"slot {name!r}: normalize uses {{{field}}}, but the pattern has no group "
                        f"of that name (use {{match}} or a (?P<name>...) group)",
                    )
                )
    values = tuple(spec.values)
    return SlotDef(name, spec.type, pattern, spec.normalize, values, spec.min, spec.max, spec.initial, spec.currency)


def _keywords(value: list[str] | dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
    if isinstance(value, list):
        return {"*": tuple(value)} if value else {}
    return {lang: tuple(words) for lang, words in value.items()}


def _text_problems(
    refs: Iterable[Reference],
    responses: dict[str, dict[str, tuple[tuple[str, ...], Mark]]],
    default_language: str,
    problems: list[Problem],
    broken: set[str],
) -> None:
    """Texts that are missing or lack the default language; a text that is there but broken was reported."""
    for ref in refs:
        if ref.kind == "text" and ref.name in broken:
            continue
        if ref.kind == "text" and ref.name not in responses:
            problems.append(
                Problem(
                    ref.mark,
                    "FLOW-E001",
                    f"flow {ref.flow!r}: unknown text {ref.name!r} (define it under responses:)"
                    + did_you_mean(ref.name, [*responses, *broken]),
                )
            )
        elif ref.kind == "text" and default_language not in responses[ref.name]:
            problems.append(
                Problem(
                    ref.mark,
                    "FLOW-E002",
                    f"flow {ref.flow!r}: text {ref.name!r} has no {default_language!r} version (the default language)",
                )
            )
        elif ref.kind == "inline" and default_language not in ref.name.split(","):
            problems.append(
                Problem(
                    ref.mark,
                    "FLOW-E002",
                    f"flow {ref.flow!r}: inline text has no {default_language!r} version (the default language)",
                )
            )


def load_bot(
    bot_dir: Path,
    *,
    languages: tuple[str, ...],
    default_language: str,
    actions: Iterable[str] | None = None,
    channels: tuple[str, ...] | None = None,
) -> LoadResult:
    """Read and check a bot folder. ``actions`` are the custom actions that exist and ``channels`` the channels
    a "continue_in" button may name (None: do not check)."""
    known = s.KNOWN_CHANNELS.set(channels)
    try:
        return _load_bot(bot_dir, languages=languages, default_language=default_language, actions=actions)
    finally:
        s.KNOWN_CHANNELS.reset(known)


def _load_bot(
    bot_dir: Path, *, languages: tuple[str, ...], default_language: str, actions: Iterable[str] | None
) -> LoadResult:
    problems: list[Problem] = []
    top_mark = Mark(str(bot_dir), 1, 1)
    if not bot_dir.is_dir():
        return LoadResult(None, [Problem(top_mark, "BOT-E001", "bot folder not found")])
    files = bot_files(bot_dir)
    if not files:
        return LoadResult(None, [Problem(top_mark, "BOT-E001", "no .yml files in the bot folder")])
    collector = _Collector(languages, problems)
    broken: dict[str, set[str]] = {"flows": set(), "slots": set(), "responses": set()}
    for path in files:
        display = str(path.relative_to(bot_dir.parent)) if bot_dir.parent != path.parent else path.name
        top = Mark(display, 1, 1)
        try:
            raw = load_file(path, display)
        except DuplicateKeys as exc:
            problems.extend(Problem(error.mark, "BOT-E001", error.message) for error in exc.errors)
            raw = exc.data
        except YamlError as exc:
            problems.append(Problem(exc.mark, "BOT-E001", exc.message))
            continue
        if raw is None:
            continue
        if not isinstance(raw, LocatedDict):
            problems.append(
                Problem(
                    top,
                    "BOT-E001",
                    "a bot file must be a mapping with sections such as flows:, responses:, slots:, nlu:, settings:",
                )
            )
            continue
        collector.add(validate_file(raw, top, problems, broken), raw, top)

    settings = collector.settings[0] if collector.settings else s.SettingsSpec()
    settings_raw = collector.settings[1] if collector.settings else None
    settings_mark = collector.settings[2] if collector.settings else top_mark
    slots = {name: _slot(name, spec, raw, mark, problems) for name, (spec, raw, mark) in collector.slots.items()}
    references: list[Reference] = []
    flow_names = set(collector.flows)
    compiled = {}
    for name, (spec, raw, mark) in collector.flows.items():
        compiler = FlowCompiler(name, slots, problems, references)
        compiler.steps(spec.steps, raw.get("steps") if isinstance(raw, dict) else None, mark)
        compiled[name] = (compiler, spec, raw, mark)
    entries: dict[str, set[int]] = {name: {0} for name in compiled}
    for name, (compiler, _spec, _raw, _mark) in compiled.items():
        for target, label, mark in compiler.finish_gotos(flow_names | broken["flows"]):
            if label is None or target in broken["flows"]:
                continue
            target_labels = compiled[target][0].out.labels
            if label not in target_labels:
                problems.append(
                    Problem(
                        mark,
                        "FLOW-E004",
                        f"flow {name!r}: flow {target!r} has no step {label!r}{did_you_mean(label, target_labels)}",
                    )
                )
            else:
                entries[target].add(target_labels[label])

    flows: dict[str, Flow] = {}
    for name, (compiler, spec, raw, mark) in compiled.items():
        ops = compiler.out.ops
        seen = reachable(ops, entries[name])
        for start, step_mark in compiler.out.step_starts:
            if start < len(ops) and start not in seen:
                problems.append(
                    Problem(
                        step_mark,
                        "FLOW-E007",
                        f"flow {name!r}: this step can never run (it follows a goto, end or handoff)",
                    )
                )
                seen |= reachable(ops, {start})  # report each unreachable run once
        trigger_raw = raw.get("trigger") if isinstance(raw, dict) else None
        flows[name] = Flow(
            name,
            tuple(ops),
            dict(compiler.out.labels),
            _trigger(name, spec.trigger, trigger_raw, mark, compiler, problems),
            spec.interruptible,
            spec.description,
            mark,
            spec.message_tag,
            spec.resume_interrupted,
            spec.form,
        )

    raw_flows = {name: raw for name, (_spec, raw, _mark) in collector.flows.items()}
    check_forms(flows, raw_flows, problems, set(actions) if actions is not None else set())
    examples = {lang: {intent: tuple(ex) for intent, ex in per.items()} for lang, per in collector.examples.items()}
    intents = tuple(sorted({intent for per in examples.values() for intent in per}))
    for name, flow in flows.items():
        for intent in flow.trigger.intents:
            if intent not in intents and intent != OUT_OF_SCOPE:  # the NLU's background class: examples built in
                mark = mark_of(collector.flows[name][1].get("trigger"), "intents", flow.mark)
                problems.append(
                    Problem(
                        mark,
                        "FLOW-E008",
                        f"flow {name!r}: intent {intent!r} has no training examples (add them under nlu:)"
                        + did_you_mean(intent, intents),
                    )
                )
    known_actions = set(actions) if actions is not None else None
    slot_names = [*slots, *broken["slots"]]
    for ref in references:
        if known_name(ref.name, broken["slots"]):
            continue
        if ref.kind == "slot" and ref.name not in slots:
            problems.append(
                Problem(
                    ref.mark,
                    "FLOW-E003",
                    f"flow {ref.flow!r}: unknown slot {ref.name!r} (declare it under slots:)"
                    + did_you_mean(ref.name, slot_names),
                )
            )
        elif ref.kind == "name" and not known_name(ref.name, [*slots, *BUILTIN_NAMES]):
            problems.append(
                Problem(
                    ref.mark,
                    "FLOW-E003",
                    f"flow {ref.flow!r}: unknown name {_unknown_part(ref.name)!r}"
                    " (not a slot nor one of "
                    + ", ".join(sorted(BUILTIN_NAMES))
                    + ")"
                    + _subtraction_hint(ref.name, [*slots, *BUILTIN_NAMES])
                    + did_you_mean(_unknown_part(ref.name), [*slot_names, *BUILTIN_NAMES]),
                )
            )
        elif ref.kind == "function" and ref.name not in BUILTIN_FUNCTIONS:
            problems.append(
                Problem(
                    ref.mark,
                    "FLOW-E011",
                    f"flow {ref.flow!r}: unknown function {ref.name!r} "
                    "(available: "
                    + ", ".join(sorted(BUILTIN_FUNCTIONS))
                    + ")"
                    + did_you_mean(ref.name, BUILTIN_FUNCTIONS),
                )
            )
        elif ref.kind == "action" and known_actions is not None and ref.name not in known_actions:
            available = ", ".join(sorted(known_actions)) or "none"
            problems.append(
                Problem(
                    ref.mark,
                    "FLOW-E009",
                    f"flow {ref.flow!r}: unknown action {ref.name!r} (available: {available})"
                    + did_you_mean(ref.name, known_actions),
                )
            )
    _text_problems(references, collector.responses, default_language, problems, broken["responses"])

    fallback_flow = settings.fallback_flow
    if fallback_flow is not None and fallback_flow not in flows and fallback_flow not in broken["flows"]:
        problems.append(
            Problem(
                mark_of(settings_raw, "fallback_flow", settings_mark),
                "BOT-E008",
                f"fallback_flow {fallback_flow!r} is not a flow{did_you_mean(fallback_flow, flows)}",
            )
        )
    settings_refs: list[Reference] = []
    helper = FlowCompiler("(settings)", slots, problems, settings_refs)
    cancel_raw = settings_raw.get("cancel") if isinstance(settings_raw, dict) else None
    for index, intent in enumerate(settings.cancel.intents):
        if intent not in intents:
            problems.append(
                Problem(
                    mark_of(cancel_raw.get("intents") if isinstance(cancel_raw, dict) else None, index, settings_mark),
                    "FLOW-E008",
                    f"cancel intent {intent!r} has no training examples (add them under nlu:)"
                    + did_you_mean(intent, intents),
                )
            )
    cancel_response = (
        helper.text(settings.cancel.response, cancel_raw, "response", settings_mark)
        if settings.cancel.response is not None
        else None
    )
    idle_response = (
        helper.text(settings.cancel.idle_response, cancel_raw, "idle_response", settings_mark)
        if settings.cancel.idle_response is not None
        else None
    )
    unsure_raw = settings_raw.get("dont_know") if isinstance(settings_raw, dict) else None
    unsure_response = (
        helper.text(settings.dont_know.response, unsure_raw, "response", settings_mark)
        if settings.dont_know.response is not None
        else None
    )
    error_response = (
        helper.text(settings.action_error_response, settings_raw, "action_error_response", settings_mark)
        if settings.action_error_response is not None
        else None
    )
    digressions = _digressions(settings.digressions, settings_raw, settings_mark, helper, flows, broken, problems)
    widget = widget_def(settings.widget, settings_raw, settings_mark, helper, bot_dir, problems)
    _text_problems(
        [r for r in settings_refs if r.kind in ("text", "inline")],
        collector.responses,
        default_language,
        problems,
        broken["responses"],
    )

    # A text no flow shows is for actions (``dispatcher.utter_message(response=..., who="Ana")``): the action
    # passes its values, so only texts flows show must get by with slots and built-in names.
    shown = {r.name for r in [*references, *settings_refs] if r.kind == "text"}
    for key, per_language in collector.responses.items():
        if key not in shown:
            continue
        for lang, (variants, mark) in per_language.items():
            for variant in variants:
                for name in Template(variant).names():
                    root = _unknown_part(name)
                    if not known_name(name, [*slots, *BUILTIN_NAMES, *broken["slots"]]):
                        problems.append(
                            Problem(
                                mark,
                                "BOT-E009",
                                f"response {key!r} ({lang}): unknown name "
                                f"{{{name}}} (not a slot nor one of "
                                + ", ".join(sorted(BUILTIN_NAMES))
                                + ")"
                                + did_you_mean(root, [*slots, *BUILTIN_NAMES]),
                            )
                        )
    problems += condition_name_problems(collector.texts, [*slots, *BUILTIN_NAMES], broken["slots"])
    _loops(flows, problems)
    problems += unanswered_payloads(flows, intents)
    _missing_translations(collector, languages, default_language, problems, bot_dir)
    for language in languages:
        if language not in examples and examples:
            problems.append(Problem(top_mark, "BOT-W003", f"no training examples for language {language!r}", "warning"))
    if any(p.severity == "error" for p in problems):
        return LoadResult(None, problems)
    bot = Bot(
        name=settings.name or bot_dir.name,
        languages=languages,
        default_language=default_language,
        flows=flows,
        slots=slots,
        responses={
            key: {lang: variants for lang, (variants, _m) in per.items()} for key, per in collector.responses.items()
        },
        response_variants=collector.texts.response_variants,
        examples=examples,
        intents=intents,
        actions=tuple(
            sorted(known_actions if known_actions is not None else {r.name for r in references if r.kind == "action"})
        ),
        fallback_flow=fallback_flow,
        nlu_threshold=settings.nlu_threshold,
        nlu_encoder=settings.nlu_encoder,
        cancel=CancelDef(
            cancel_response,
            tuple(settings.cancel.intents),
            _keywords(settings.cancel.keywords),
            _keywords(settings.cancel.filler),
            idle_response,
        ),
        action_error_response=error_response,
        digressions=digressions,
        corrections=_keywords(settings.corrections),
        dont_know=UnsureDef(unsure_response, _keywords(settings.dont_know.keywords)),
        content_hash=content_hash(bot_dir),
        entities=tuple(collector.entities),
        widget=widget,
        demo_shop=settings.demo_shop,
        locales=dict(settings.locales),
        duckling=tuple(settings.duckling),
        session=SessionDef(
            settings.session_config.session_expiration_time,
            settings.session_config.carry_over_slots_to_new_session,
        ),
    )
    return LoadResult(bot, problems)


def _digressions(
    spec: s.DigressionSpec,
    settings_raw: Any,
    settings_mark: Mark,
    helper: FlowCompiler,
    flows: dict[str, Flow],
    broken: dict[str, set[str]],
    problems: list[Problem],
) -> DigressionDef:
    """``settings.digressions``: its resume line a text like any other, its give-up flow one that exists."""
    raw = settings_raw.get("digressions") if isinstance(settings_raw, dict) else None
    resume = helper.text(spec.resume, raw, "resume", settings_mark) if spec.resume is not None else None
    if spec.give_up is not None and spec.give_up not in flows and spec.give_up not in broken["flows"]:
        problems.append(
            Problem(
                mark_of(raw, "give_up", settings_mark),
                "BOT-E008",
                f"digressions.give_up {spec.give_up!r} is not a flow{did_you_mean(spec.give_up, flows)}",
            )
        )
    return DigressionDef(spec.on_digression, spec.max_reprompts, resume, spec.give_up)


def _trigger(
    flow: str, spec: s.TriggerSpec, raw: Any, mark: Mark, compiler: FlowCompiler, problems: list[Problem]
) -> Trigger:
    patterns = []
    for index, source in enumerate(spec.regex):
        try:
            patterns.append(re.compile(source, re.IGNORECASE))
        except re.error as exc:
            problems.append(
                Problem(
                    mark_of(raw.get("regex") if isinstance(raw, dict) else None, index, mark),
                    "FLOW-E013",
                    f"flow {flow!r}: invalid regex trigger: {exc}",
                )
            )
    events = []
    raw_events = raw.get("events") if isinstance(raw, dict) else None
    for index, event in enumerate(spec.events):
        event_mark = mark_of(raw_events, index, mark)
        if isinstance(event, str):
            events.append(EventTriggerDef(event, None))
        else:
            when = compiler.expression(event.when, event_mark) if event.when else None
            events.append(EventTriggerDef(event.name, when))
    payloads = []
    for index, payload in enumerate(spec.payloads):
        if not payload.startswith("/"):
            problems.append(
                Problem(
                    mark_of(raw.get("payloads") if isinstance(raw, dict) else None, index, mark),
                    "FLOW-E014",
                    f"flow {flow!r}: payload {payload!r} must start with '/'",
                )
            )
        payloads.append(payload)
    return Trigger(
        tuple(spec.intents), tuple(payloads), _keywords(spec.keywords), tuple(patterns), tuple(events), tuple(spec.refs)
    )


_WAITS = (AskOp, BranchOp, ActionOp, EndOp, HandoffOp)


def _loops(flows: dict[str, Flow], problems: list[Problem]) -> None:
    """Report gotos that loop forever: cycles with no question, condition or action in them."""
    reported: set[frozenset[tuple[str, int]]] = set()
    for flow in flows.values():
        for start in range(len(flow.ops)):
            path: list[tuple[str, int]] = []
            node: tuple[str, int] | None = (flow.name, start)
            while node is not None and node not in path:
                path.append(node)
                name, pc = node
                ops = flows[name].ops
                if pc >= len(ops) or isinstance(ops[pc], _WAITS):
                    node = None
                    break
                op = ops[pc]
                if isinstance(op, JumpOp):
                    node = (name, op.target)
                elif isinstance(op, GotoFlowOp):
                    target = flows.get(op.flow)
                    node = (op.flow, target.labels.get(op.label, 0) if op.label else 0) if target else None
                else:
                    node = (name, pc + 1)
            if node is None:
                continue
            cycle = frozenset(path[path.index(node) :])
            if cycle in reported:
                continue
            reported.add(cycle)
            jumps = [
                flows[n].ops[p]
                for n, p in path[path.index(node) :]
                if isinstance(flows[n].ops[p], (JumpOp, GotoFlowOp))
            ]
            mark = jumps[0].mark if jumps else flows[node[0]].ops[node[1]].mark
            problems.append(
                Problem(
                    mark,
                    "FLOW-E015",
                    "this goto loops forever: the steps it repeats contain no "
                    "question, condition or action that could end the loop",
                )
            )


def _missing_translations(
    collector: _Collector, languages: tuple[str, ...], default_language: str, problems: list[Problem], bot_dir: Path
) -> None:
    """One warning per language listing the texts that fall back to the default language."""
    for language in languages:
        if language == default_language:
            continue
        missing = sorted(
            key for key, per in collector.responses.items() if language not in per and default_language in per
        )
        if missing:
            shown = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
            problems.append(
                Problem(
                    Mark(str(bot_dir.name), 1, 1),
                    "BOT-W002",
                    f"{len(missing)} text(s) have no {language!r} version and fall back to "
                    f"{default_language!r}: {shown}",
                    "warning",
                )
            )


def load_bot_or_raise(bot_dir: Path, **kwargs: Any) -> Bot:
    result = load_bot(bot_dir, **kwargs)
    if result.bot is None:
        raise ProblemsError(result.errors or result.problems)
    return result.bot


def _unknown_part(name: str) -> str:
    """What to name in an unknown-name error: the first word of a dotted name ("thred" of "thred.id"), or the
    whole name when it has hyphens (a slot named "amount-of-money" has one)."""
    return name.split(".")[0]


def _subtraction_hint(name: str, known: list[str]) -> str:
    """ "total-discount" with both words known was meant as a subtraction: say how to write one."""
    words = name.split(".")[0].split("-")
    if len(words) > 1 and all(word in known for word in words):
        return f" (to subtract, put spaces around -: {' - '.join(words)})"
    return ""
