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

