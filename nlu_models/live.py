"""The model a server's turns read: provisional on a first start, swapped whole for the full one once trained.

Each ``parse`` reads the current model once and uses only it, and a swap replaces one reference: no message
is ever read by half of one model and half of another, and a message being read when the swap happens
finishes with the model it began with.
"""

from __future__ import annotations

from typing import Literal

from bots.types import NLUResult
from nlu_models.base import LanguageHints
from nlu_models.char_ngrams import CharNgramInterpreter

Stage = Literal["provisional", "full"]


class LiveModel:
    def __init__(self, model: CharNgramInterpreter) -> None:
        self.model = model

    @property
    def stage(self) -> Stage:
        """What /health reports, so a client (or a test) can wait for the full model."""
        return "provisional" if self.model.provisional else "full"

    def swap(self, model: CharNgramInterpreter) -> None:
        self.model = model

    async def parse(self, text: str, hints: LanguageHints) -> NLUResult:
        model = self.model  # one model for the whole message, whatever a swap does meanwhile
        return await model.parse(text, hints)
