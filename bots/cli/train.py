"""``threadline train``: train the NLU on the bot's examples and save it where ``threadline run`` finds it."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from tqdm import tqdm

from bots.config import load_config
from bots.errors import ProblemsError
from bots.flow.loader import load_bot
from nlu_models.artifact import artifact_path, save, train
from nlu_models.tokenize import prepare_training


def train_command(config_path: Path) -> int:
    config = load_config(config_path)
    # steps: reading the bot, each language's tokenizer and lemmas (most of the time), the models, saving
    with tqdm(
        total=3 + len(config.languages), desc="training", unit="step", disable=not sys.stderr.isatty(), file=sys.stderr
    ) as bar:
        bar.set_postfix_str("reading the bot")
        loaded = load_bot(config.bot, languages=config.languages, default_language=config.default_language)
        if loaded.bot is None:
            raise ProblemsError(loaded.errors)
        bot = loaded.bot
        for problem in loaded.warnings:  # a file left out of training ("language: xx", an empty file) must show
            tqdm.write(str(problem), file=sys.stderr)
        bar.update(1)
        started = time.perf_counter()
        for language in bot.languages:
            bar.set_postfix_str(f"{language}: tokenizer and lemmas")
            prepare_training(language)
            bar.update(1)
        bar.set_postfix_str("intent, language and entity models")
        interpreter = train(bot)
        seconds = time.perf_counter() - started
        bar.update(1)
        bar.set_postfix_str("saving")
        path = artifact_path(bot, config.data_dir)
        size = save(interpreter, bot, path)
        bar.update(1)
    examples = sum(len(texts) for per in bot.examples.values() for texts in per.values())
    print(
        f"trained on {examples} examples in {len(bot.examples)} languages ({len(bot.intents)} intents) in "
        f"{seconds:.1f} s; saved {path} ({size / 1e6:.1f} MB)"
    )
    return 0
