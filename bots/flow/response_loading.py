"""The ``responses:`` of a bot's files, merged: the words of every variant per key and language, and what
variants with Rasa's keys show besides (``response_variants``); each definition's place kept for the checks."""

from __future__ import annotations

from bots.errors import Problem, did_you_mean
from bots.flow import schema as s
from bots.flow.expressions import ExpressionError, known_name
from bots.flow.model import ResponseVariant
from bots.flow.response_variants import compile_variant, condition_problem
from bots.located_yaml import LocatedDict, Mark, key_mark_of


class ResponseCollector:
    """Merges the responses of all files, one definition per key and language."""

    def __init__(self, languages: tuple[str, ...], problems: list[Problem]) -> None:
        self.languages = languages
        self.problems = problems
        self.responses: dict[str, dict[str, tuple[tuple[str, ...], Mark]]] = {}
        self.response_variants: dict[str, dict[str, tuple[ResponseVariant, ...]]] = {}

    def error(self, mark: Mark, code: str, message: str) -> None:
        self.problems.append(Problem(mark, code, message))

    def warning(self, mark: Mark, code: str, message: str) -> None:
        self.problems.append(Problem(mark, code, message, "warning"))

    def add(self, spec: s.BotFileSpec, raw: LocatedDict, top: Mark, language: str | None) -> None:
        """The ``responses:`` of one file: ``language`` is the file's own, if it declares one."""
        raw_section = raw.get("responses")
        for key, value in spec.responses.items():
            mark = key_mark_of(raw_section, key, top)
            if language is not None:
                if isinstance(value, dict):
                    self.error(
                        mark,
                        "BOT-E006",
                        f"response {key!r}: this file is for language {language!r}, "
                        "so give the text itself, not a mapping of languages",
                    )
                    continue
                per_language = {language: value}
            else:
                if not isinstance(value, dict):
                    self.error(
                        mark,
                        "BOT-E006",
                        f"response {key!r}: say which language it is in: write "
                        f"{{en: ...}} or add `language: <code>` at the top of the file",
                    )
                    continue
                per_language = value
            for lang, text in per_language.items():
                if lang not in self.languages:
                    self.warning(mark, "BOT-W001", f"response {key!r}: language {lang!r} is not configured")
                    continue
                items = text if isinstance(text, list) else [text]
                if not items or any(isinstance(v, str) and not v.strip() for v in items):
                    self.error(mark, "BOT-E006", f"response {key!r} ({lang}): empty text")
                    continue
                variants = tuple(v if isinstance(v, str) else (v.text or "").strip() for v in items)
                rich = self._rich(key, lang, items, mark) if any(not isinstance(v, str) for v in items) else ()
                if rich is None:
                    continue
                existing = self.responses.setdefault(key, {})
                if lang in existing:
                    first = existing[lang][1]
                    self.error(
                        mark,
                        "BOT-E004",
                        f"response {key!r} ({lang}) is defined twice (first in {first.file} line {first.line})",
                    )
                    continue
                existing[lang] = (variants, mark)
                if rich:
                    self.response_variants.setdefault(key, {})[lang] = rich

    def _rich(
        self, key: str, lang: str, items: list[str | s.ResponseVariantSpec], mark: Mark
    ) -> tuple[ResponseVariant, ...] | None:
        """What a response's variants show besides words; None (and an error) when one is broken."""
        compiled = []
        for item in items:
            if isinstance(item, str):
                compiled.append(ResponseVariant())
                continue
            try:
                variant = compile_variant(item, lang)
            except ExpressionError as exc:
                self.error(mark, "BOT-E006", f"response {key!r} ({lang}): {exc}")
                return None
            problem = condition_problem(variant.condition) if variant.condition is not None else None
            if problem is not None:
                self.error(mark, "BOT-E006", f"response {key!r} ({lang}): {problem}")
                return None
            compiled.append(variant)
        if not any(v.channel is None and v.condition is None for v in compiled):
            self.warning(
                mark,
                "BOT-W006",
                f"response {key!r} ({lang}) has a variant only for some channels or conditions: "
                "elsewhere it says nothing (add a variant without 'channel' and 'if')",
            )
        return tuple(compiled)


def condition_name_problems(texts: ResponseCollector, known: list[str], broken: set[str]) -> list[Problem]:
    """A response's condition is read wherever it is said, also by an action: only slots and built-in names."""
    problems = []
    for key, per_language in texts.response_variants.items():
        for lang, variants in per_language.items():
            mark = texts.responses[key][lang][1]
            for name in sorted({n for v in variants if v.condition is not None for n in v.condition.names()}):
                if not known_name(name, [*known, *broken]):
                    root = name.split(".")[0]
                    problems.append(
                        Problem(
                            mark,
                            "BOT-E009",
                            f"response {key!r} ({lang}): its condition reads unknown name {name!r}"
                            + did_you_mean(root, known),
                        )
                    )
    return problems
