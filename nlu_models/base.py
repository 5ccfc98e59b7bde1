"""The NLU seam: what every interpreter offers the runtime.

The engine consumes only :class:`bots.types.NLUResult`. The example matcher
here stands in until the trained multilingual models land; they plug in
behind the same protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bots.types import NLUResult


@dataclass(frozen=True)
class LanguageHints:
    """What we already know about the language before reading the text."""

    thread_language: str | None = None  # the language the thread is in so far
    channel_locale: str | None = None  # e.g. the browser's language or the Messenger profile locale


class Interpreter(Protocol):
    async def parse(self, text: str, hints: LanguageHints) -> NLUResult: ...


class EntitySpec(Protocol):
    """An entity the bot declares (the loader's ``EntityDef``). ``language`` None: for every language."""

    @property
    def name(self) -> str: ...
    @property
    def language(self) -> str | None: ...
    @property
    def patterns(self) -> tuple[str, ...]: ...
    @property
    def lookup(self) -> tuple[tuple[str, str], ...]: ...  # (text to find, canonical value)


class TrainingData(Protocol):
    """What training reads of a bot (the loaded ``Bot`` has it). Structural, so the NLU never imports the
    flow engine that loads bots: it sees examples and entities, not flows."""

    @property
    def name(self) -> str: ...
    @property
    def languages(self) -> tuple[str, ...]: ...
    @property
    def default_language(self) -> str: ...
    @property
    def examples(self) -> dict[str, dict[str, tuple[str, ...]]]: ...  # language -> intent -> examples
    @property
    def trigger_phrases(self) -> dict[str, tuple[str, ...]]: ...  # language -> the flows' trigger phrases
    @property
    def entities(self) -> tuple[EntitySpec, ...]: ...
    @property
    def nlu_threshold(self) -> float: ...
    @property
    def nlu_encoder(self) -> str: ...  # auto, off or an encoder's name (nlu_models.encoder.registry)
    @property
    def content_hash(self) -> str: ...
