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
import re
import time
from collections.abc import Callable
from pathlib import Path

from bots.atomic_file import write_atomically
from nlu_models.base import EntitySpec, TrainingData
from nlu_models.char_ngrams import CharNgramInterpreter
from nlu_models.encoder.registry import chosen
from nlu_models.encoder.second_opinion import ENCODER_TRAINING
from nlu_models.entities import EntityExtractor

log = logging.getLogger(__name__)
MODEL_VERSION = "svm-words-chars-oos-openers-16"  # bump when training or the saved classes change


def training_hash(bot: TrainingData) -> str:
    inputs = {
        "version": MODEL_VERSION,
        "examples": bot.examples,
        "entities": [_entity(e) for e in bot.entities],
        "languages": bot.languages,
        "default_language": bot.default_language,
        "threshold": bot.nlu_threshold,
        "trigger_phrases": bot.trigger_phrases,
    }
    encoder = chosen(bot.nlu_encoder)
    if encoder is not None:  # installing or removing the extra makes another model (and no key: older files load)
        inputs["encoder"] = encoder
        # how a model with the encoder trains beyond MODEL_VERSION: a change retrains only those models
        inputs["encoder_training"] = ENCODER_TRAINING
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:20]


def _entity(entity: EntitySpec) -> dict[str, object]:
    return {"name": entity.name, "language": entity.language, "patterns": entity.patterns, "lookup": entity.lookup}


def artifact_path(bot: TrainingData, data_dir: Path) -> Path:
    """``nlu-<bot>-<hash>.pkl``: the bot's name keeps bots that share a data folder from pruning each other's."""
    return data_dir / "models" / f"nlu-{_slug(bot.name)}-{training_hash(bot)}.pkl"


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "bot"


def train(bot: TrainingData, *, words: bool = True) -> CharNgramInterpreter:
    return CharNgramInterpreter(
        bot.examples,
        bot.languages,
        bot.default_language,
        bot.nlu_threshold,
        EntityExtractor(bot.entities),
        words=words,
        encoder=chosen(bot.nlu_encoder),
        phrases=bot.trigger_phrases,
    )


def save(interpreter: CharNgramInterpreter, bot: TrainingData, path: Path) -> int:
    """Write the model with a header saying what it was trained on and the model's checksum; returns the size."""
    model = pickle.dumps(interpreter, protocol=pickle.HIGHEST_PROTOCOL)
    header = {
        "version": MODEL_VERSION,
        "hash": training_hash(bot),
        "languages": list(bot.languages),
        "trained_at": time.time(),
        "sha256": hashlib.sha256(model).hexdigest(),
    }
    write_atomically(path, pickle.dumps(header) + model)
    _prune(path.parent, keep=path)
    return path.stat().st_size


KEEP_MODELS = 3  # every change of the examples writes a new file; older ones only serve a quick way back


def _prune(folder: Path, keep: Path) -> None:
    """Delete all but the newest few model files of this bot, so that years of edits do not fill the disk.

    Pruning is housekeeping: a file another process deleted first, or a read-only folder, is not an error.
    """
    bot = keep.name.rsplit("-", 1)[0]  # nlu-<bot>
    ages: list[tuple[float, Path]] = []
    for model in folder.glob(f"{bot}-*.pkl"):
        if model == keep or model.name.rsplit("-", 1)[0] != bot:
            continue
        try:
            ages.append((model.stat().st_mtime, model))
        except OSError:
            continue
    for _, old in sorted(ages, reverse=True)[KEEP_MODELS - 1 :]:
        try:
            old.unlink()
        except OSError as exc:
            log.debug("could not delete old NLU model %s: %s", old, exc)


def load(bot: TrainingData, path: Path) -> CharNgramInterpreter | None:
    """The saved model if it was trained on exactly this bot's NLU data and is intact, else None (train then).

    A damaged file (a disk error, a copy cut short) must cost a retraining, never the server's start: the
    model's bytes are checked against the checksum in the header before they are unpickled, and whatever a
    damaged header raises is caught.
    """
    try:
        with path.open("rb") as file:
            header = pickle.load(file)
            model = file.read()
    except FileNotFoundError:
        return None
    except Exception as exc:
        log.warning("NLU model %s cannot be read (%s); training a new one", path, exc)
        return None
    if (
        not isinstance(header, dict)
        or header.get("version") != MODEL_VERSION
        or header.get("hash") != training_hash(bot)
    ):
        return None
    if header.get("sha256") != hashlib.sha256(model).hexdigest():
        log.warning("NLU model %s is damaged (its checksum does not match); training a new one", path)
        return None
    try:
        interpreter = pickle.loads(model)
    except Exception as exc:
        log.warning("NLU model %s cannot be loaded (%s); training a new one", path, exc)
        return None
    return interpreter if isinstance(interpreter, CharNgramInterpreter) else None


_LOADED: dict[str, CharNgramInterpreter] = {}  # a process serving or testing one bot trains or loads once


def remembered(bot: TrainingData) -> CharNgramInterpreter | None:
    return _LOADED.get(training_hash(bot))


def remember(bot: TrainingData, interpreter: CharNgramInterpreter) -> None:
    if len(_LOADED) >= 4:
        _LOADED.pop(next(iter(_LOADED)))
    _LOADED[training_hash(bot)] = interpreter


def load_or_train(
    bot: TrainingData, data_dir: Path, *, announce: Callable[[str], None] = log.info
) -> CharNgramInterpreter:
    """In this process (``threadline train``, tests); a server trains in a child (nlu_models.train_process)."""
    interpreter = remembered(bot)
    if interpreter is None:
        interpreter = _load_or_train(bot, data_dir, announce)
        remember(bot, interpreter)
    return interpreter


def _load_or_train(bot: TrainingData, data_dir: Path, announce: Callable[[str], None]) -> CharNgramInterpreter:
    path = artifact_path(bot, data_dir)
    interpreter = load(bot, path)
    if interpreter is not None:
        announce(f"NLU model loaded from {path}")
        return interpreter
    return train_and_save(bot, path, announce)


def train_and_save(
    bot: TrainingData,
    path: Path,
    announce: Callable[[str], None] = log.info,
    provisional: Callable[[CharNgramInterpreter], None] | None = None,
) -> CharNgramInterpreter:
    """Train; a model that cannot be saved (a read-only data directory, say) is still returned, with a warning.

    With ``provisional``, a model on character n-grams only is trained first and handed to it (a server
    answers with it meanwhile), then the full one is made from it (nlu_models.char_ngrams): its language
    identifier is not trained twice. Only the full model is saved.
    """
    started = time.perf_counter()
    if provisional is None:
        interpreter = train(bot)
    else:
        first = train(bot, words=False)
        announce(f"provisional NLU model (no word features) trained in {time.perf_counter() - started:.1f} s")
        provisional(first)
        interpreter = first.with_words(bot.examples)
    try:
        size = save(interpreter, bot, path)
        announce(
            f"NLU examples changed or no model yet: trained in {time.perf_counter() - started:.1f} s, "
            f"saved to {path} ({size / 1e6:.1f} MB)"
        )
    except (OSError, pickle.PicklingError, AttributeError) as exc:  # e.g. a read-only data directory
        log.warning("trained the NLU model but could not save it to %s: %s", path, exc)
    return interpreter
