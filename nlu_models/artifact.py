"""The trained NLU as a versioned file: ``threadline train`` writes it, ``threadline run`` loads it.

The file is named after a hash of everything training reads (examples,
entities, languages, threshold, the model's version), so a server whose
examples changed since the last training finds no matching file and trains
at start, and an unchanged bot starts in a fraction of a second. The file is
written aside and renamed into place: a crash never leaves half a model.
"""

from __future__ import annotations

import hashlib
import json
import logging
import pickle
import time
from dataclasses import asdict
from pathlib import Path
from typing import Callable

from bots.atomic_file import write_atomically
from bots.flow.model import Bot
from nlu_models.char_ngrams import CharNgramInterpreter
from nlu_models.entities import EntityExtractor
from nlu_models.tokenize import warm_up

log = logging.getLogger(__name__)
MODEL_VERSION = "svm-words-chars-2"  # bump when training or the saved classes change


def training_hash(bot: Bot) -> str:
    inputs = {"version": MODEL_VERSION, "examples": bot.examples, "entities": [asdict(e) for e in bot.entities],
              "languages": bot.languages, "default_language": bot.default_language, "threshold": bot.nlu_threshold}
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:20]


def artifact_path(bot: Bot, data_dir: Path) -> Path:
    return data_dir / "models" / f"nlu-{training_hash(bot)}.pkl"


def train(bot: Bot) -> CharNgramInterpreter:
    return CharNgramInterpreter(bot.examples, bot.languages, bot.default_language, bot.nlu_threshold,
                                EntityExtractor(bot.entities))


def save(interpreter: CharNgramInterpreter, bot: Bot, path: Path) -> int:
    """Write the model with a header saying what it was trained on; returns the file's size."""
    header = {"version": MODEL_VERSION, "hash": training_hash(bot), "languages": list(bot.languages),
              "trained_at": time.time()}
    write_atomically(path, pickle.dumps(header) + pickle.dumps(interpreter, protocol=pickle.HIGHEST_PROTOCOL))
    return path.stat().st_size


def load(bot: Bot, path: Path) -> CharNgramInterpreter | None:
    """The saved model if it was trained on exactly this bot's NLU data, else None (train then)."""
    try:
        with path.open("rb") as file:
            header = pickle.load(file)
            if not isinstance(header, dict) or header.get("version") != MODEL_VERSION or header.get(
                    "hash") != training_hash(bot):
                return None
            interpreter = pickle.load(file)
    except FileNotFoundError:
        return None
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
        log.warning("NLU model %s cannot be read (%s); training a new one", path, exc)
        return None
    return interpreter if isinstance(interpreter, CharNgramInterpreter) else None


_LOADED: dict[str, CharNgramInterpreter] = {}  # a process serving or testing one bot trains or loads once


def load_or_train(bot: Bot, data_dir: Path, *, announce: Callable[[str], None] = log.info) -> CharNgramInterpreter:
    key = training_hash(bot)
    if key in _LOADED:
        return _LOADED[key]
    interpreter = _load_or_train(bot, data_dir, announce)
    warm_up(bot.languages)
    if len(_LOADED) >= 4:
        _LOADED.pop(next(iter(_LOADED)))
    _LOADED[key] = interpreter
    return interpreter


def _load_or_train(bot: Bot, data_dir: Path, announce: Callable[[str], None]) -> CharNgramInterpreter:
    path = artifact_path(bot, data_dir)
    interpreter = load(bot, path)
    if interpreter is not None:
        announce(f"NLU model loaded from {path}")
        return interpreter
    started = time.perf_counter()
    interpreter = train(bot)
    try:
        size = save(interpreter, bot, path)
        announce(f"NLU examples changed or no model yet: trained in {time.perf_counter() - started:.1f} s, "
                 f"saved to {path} ({size / 1e6:.1f} MB)")
    except (OSError, pickle.PicklingError, AttributeError) as exc:  # e.g. a read-only data directory
        log.warning("trained the NLU model but could not save it to %s: %s", path, exc)
    return interpreter
