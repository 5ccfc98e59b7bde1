"""Training in a child process, so a server keeps none of training's memory once its model is trained.

Training imports scikit-learn and SciPy, builds every tokenizer and reads spaCy's lemma tables: about
480 MiB that Python never hands back. The server sends a child (``python -m nlu_models.train_process``)
what training reads, pickled on its stdin; the child trains, saves the model atomically where a restart
finds it (nlu_models.artifact), and sends the model back on its stdout. The server then holds what a
restart holds. A server stopped while its child trains stops the child (and its helper) too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from nlu_models import artifact
from nlu_models.base import EntitySpec, TrainingData
from nlu_models.char_ngrams import CharNgramInterpreter

log = logging.getLogger("nlu_models.train_process")  # not "__main__" in the child


@dataclass(frozen=True)
class Entity:
    name: str
    language: str | None
    patterns: tuple[str, ...]
    lookup: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class TrainingSet:
    """What training reads of a bot, as plain data: a child unpickles it without importing the flow engine."""

    name: str
    languages: tuple[str, ...]
    default_language: str
    examples: dict[str, dict[str, tuple[str, ...]]]
    entities: tuple[Entity, ...]
    nlu_threshold: float
    content_hash: str

    @classmethod
    def of(cls, bot: TrainingData) -> TrainingSet:
        return cls(
            bot.name,
            tuple(bot.languages),
            bot.default_language,
            bot.examples,
            tuple(_entity(e) for e in bot.entities),
            bot.nlu_threshold,
            bot.content_hash,
        )


def _entity(entity: EntitySpec) -> Entity:
    return Entity(entity.name, entity.language, tuple(entity.patterns), tuple(entity.lookup))


class TrainingFailed(RuntimeError):
    pass


async def load_or_train_apart(bot: TrainingData, data_dir: Path) -> CharNgramInterpreter:
    """The saved model of these examples, or one trained in a child process (then saved there)."""
    remembered = artifact.remembered(bot)
    if remembered is not None:
        return remembered
    path = artifact.artifact_path(bot, data_dir)
    interpreter = await asyncio.to_thread(artifact.load, bot, path)
    if interpreter is not None:
        log.info("NLU model loaded from %s", path)
    else:
        interpreter = await train_apart(bot, data_dir)
    artifact.remember(bot, interpreter)
    return interpreter


async def train_apart(bot: TrainingData, data_dir: Path) -> CharNgramInterpreter:
    root = str(Path(__file__).resolve().parent.parent)  # where nlu_models is, however this process found it
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "nlu_models.train_process",
        str(data_dir),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)},
        start_new_session=True,  # its own process group: stopping it stops its helper too
    )
    try:
        answer, _ = await child.communicate(pickle.dumps(TrainingSet.of(bot), protocol=pickle.HIGHEST_PROTOCOL))
    except BaseException:  # cancelled: the server is stopping
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        await child.wait()
        raise
    if child.returncode != 0 or not answer:
        raise TrainingFailed(f"training the NLU model failed (exit status {child.returncode}); see the lines above")
    interpreter = pickle.loads(answer)
    if not isinstance(interpreter, CharNgramInterpreter):
        raise TrainingFailed("the training process sent back no model")
    return interpreter


def _child(data_dir: Path) -> int:
    bot = pickle.load(sys.stdin.buffer)
    interpreter = artifact.train_and_save(bot, artifact.artifact_path(bot, data_dir), log.info)
    sys.stdout.buffer.write(pickle.dumps(interpreter, protocol=pickle.HIGHEST_PROTOCOL))
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sys.exit(_child(Path(sys.argv[1])))
