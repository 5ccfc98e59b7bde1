"""Training in a child process, so a server keeps none of training's memory once its model is trained.

Training imports scikit-learn and SciPy, builds every tokenizer and reads spaCy's lemma tables: about
480 MiB that Python never hands back. The server sends a child (``python -m nlu_models.train_process``)
what training reads, pickled on its stdin; the child first trains a provisional model (without the word
features that take most of a training's time) and sends it on its stdout, so the server answers at once;
then it trains the full model, saves it atomically where a restart finds it (nlu_models.artifact) and
sends it too, and the server swaps it in (nlu_models.live). The server then holds what a restart holds.
A server stopped while its child trains stops the child (and its helper) too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import signal
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path

from nlu_models import artifact
from nlu_models.base import EntitySpec, TrainingData
from nlu_models.char_ngrams import CharNgramInterpreter
from nlu_models.live import LiveModel

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
    nlu_encoder: str = "off"
    trigger_phrases: dict[str, tuple[str, ...]] = field(default_factory=dict)

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
            bot.nlu_encoder,
            bot.trigger_phrases,
        )


def _entity(entity: EntitySpec) -> Entity:
    return Entity(entity.name, entity.language, tuple(entity.patterns), tuple(entity.lookup))


class TrainingFailed(RuntimeError):
    pass


# A test hook, documented in docs/architecture.md: the path of a file (a named pipe, say) that the training
# child reads to its end after it sent the provisional model and before it trains the full one, so that a test
# can hold a server on its provisional model as long as it needs, and release it by writing and closing the pipe.
HOLD_ENV = "THREADLINE_TEST_HOLD_FULL_TRAINING"
_LENGTH = struct.Struct(">Q")  # each model on the child's stdout: its length, then its pickle


@dataclass
class Training:
    """The model to serve now and, when it is the provisional one, the full model still training.

    The model is held through the live reference the server swaps (nlu_models.live), so that nothing keeps
    a provisional model alive once the full one serves.
    """

    live: LiveModel
    full: asyncio.Task[CharNgramInterpreter] | None = None


async def load_or_train_apart(bot: TrainingData, data_dir: Path) -> CharNgramInterpreter:
    """The saved model of these examples, or the full one trained in a child process (then saved there)."""
    training = await load_or_start_training(bot, data_dir)
    return training.live.model if training.full is None else await training.full


async def load_or_start_training(bot: TrainingData, data_dir: Path) -> Training:
    """The saved model of these examples; else a provisional one as soon as a child process has trained it,
    with the full model to come (the child saves it, and it is remembered for this process)."""
    remembered = artifact.remembered(bot)
    if remembered is not None:
        return Training(LiveModel(remembered))
    path = artifact.artifact_path(bot, data_dir)
    interpreter = await asyncio.to_thread(artifact.load, bot, path)
    if interpreter is not None:
        log.info("NLU model loaded from %s", path)
        artifact.remember(bot, interpreter)
        return Training(LiveModel(interpreter))
    child = await _start_child(bot, data_dir)
    try:
        provisional = await _receive(child)
    except BaseException:  # it failed, or the server is stopping
        await _stop(child)
        raise
    return Training(LiveModel(provisional), asyncio.ensure_future(_full(bot, child)))


async def _start_child(bot: TrainingData, data_dir: Path) -> asyncio.subprocess.Process:
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
    assert child.stdin is not None
    child.stdin.write(pickle.dumps(TrainingSet.of(bot), protocol=pickle.HIGHEST_PROTOCOL))
    child.stdin.close()
    return child


async def _full(bot: TrainingData, child: asyncio.subprocess.Process) -> CharNgramInterpreter:
    try:
        interpreter = await _receive(child)
        await child.wait()
    except BaseException:  # it failed, or the server is stopping
        await _stop(child)
        raise
    artifact.remember(bot, interpreter)
    return interpreter


async def _receive(child: asyncio.subprocess.Process) -> CharNgramInterpreter:
    """The next model the child sends."""
    assert child.stdout is not None
    try:
        (length,) = _LENGTH.unpack(await child.stdout.readexactly(_LENGTH.size))
        # in a thread: a model with a sentence encoder loads the encoder's network as it is unpickled (2 s)
        interpreter = await asyncio.to_thread(pickle.loads, await child.stdout.readexactly(length))
    except asyncio.IncompleteReadError:
        code = await child.wait()
        raise TrainingFailed(f"training the NLU model failed (exit status {code}); see the lines above") from None
    if not isinstance(interpreter, CharNgramInterpreter):
        raise TrainingFailed("the training process sent back no model")
    return interpreter


async def _stop(child: asyncio.subprocess.Process) -> None:
    if child.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
    await child.wait()


def _send(interpreter: CharNgramInterpreter) -> None:
    model = pickle.dumps(interpreter, protocol=pickle.HIGHEST_PROTOCOL)
    sys.stdout.buffer.write(_LENGTH.pack(len(model)) + model)
    sys.stdout.buffer.flush()


def _send_provisional(interpreter: CharNgramInterpreter) -> None:
    _send(interpreter)
    hold = os.environ.get(HOLD_ENV)
    if hold:
        with open(hold, "rb") as release:  # a named pipe blocks here until the test opens it, then until it closes
            release.read()


def _child(data_dir: Path) -> int:
    bot = pickle.load(sys.stdin.buffer)
    _send(artifact.train_and_save(bot, artifact.artifact_path(bot, data_dir), log.info, _send_provisional))
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sys.exit(_child(Path(sys.argv[1])))
