"""Trained NLU models put where a test's server, worker or shell loads them, each trained once per test process.

A process started on a new data folder otherwise trains its bot's model before answering (about twenty
seconds for the demo bot); the tests that start one are about something else. The file is the one
``threadline train`` writes, named by what it was trained on (nlu_models.artifact), so a process whose bot
differs finds no match and trains as it always would. The tests of training itself (test_startup,
test_first_start, test_nlu_cli) start on empty folders and do not use this.
"""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

from bots.config import SUPPORTED_LANGUAGES
from bots.flow.loader import load_bot
from nlu_models import artifact
from nlu_models.base import TrainingData
from tests.conftest import DEMO_BOT

_written: dict[str, Path] = {}  # file name -> the first copy this process wrote


def provide_model(bot: TrainingData, data_dir: Path) -> Path:
    """The bot's trained model in ``data_dir``: copied from an earlier test's, else trained (or loaded) here."""
    path = artifact.artifact_path(bot, data_dir)
    if path.exists():
        return path
    earlier = _written.get(path.name)
    if earlier is not None and earlier.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(earlier, path)
    else:
        interpreter = artifact.load_or_train(bot, data_dir)  # remembered by this process after the first time
        if not path.exists():  # it was remembered, so nothing was written here
            artifact.save(interpreter, bot, path)
        _written[path.name] = path
    return path


@functools.cache
def _demo_bot() -> TrainingData:
    """The demo bot as ``threadline run`` loads it with the repository's config.yaml or no config at all."""
    loaded = load_bot(DEMO_BOT, languages=SUPPORTED_LANGUAGES, default_language="en")
    assert loaded.bot is not None, "\n".join(map(str, loaded.problems))
    return loaded.bot


def provide_demo_model(data_dir: Path) -> Path:
    """The demo bot's trained model in ``data_dir``, for a process started on it."""
    return provide_model(_demo_bot(), data_dir)
