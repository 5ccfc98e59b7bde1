"""Build a running bot from config.yaml: load, check, train, open the store."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import AsyncIterator

from bots.actions import ActionRegistry, InProcessActionRunner, load_actions
from bots.config import Config
from bots.flow.engine import Engine
from bots.flow.loader import LoadResult, load_bot
from bots.flow.model import Bot
from bots.errors import Problem, ProblemsError, UserError
from bots.located_yaml import Mark
from bots.pipeline import Pipeline
from bots.store.base import ThreadStore
from bots.store.factory import open_store
from bots.store.local_lock import LocalThreadLock
from nlu_models.char_ngrams import CharNgramInterpreter

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    config: Config
    bot: Bot
    store: ThreadStore
    pipeline: Pipeline
    load_result: LoadResult


def check_bot(config: Config) -> tuple[LoadResult, InProcessActionRunner]:
    """Load actions and flows; a broken actions module is one more problem, reported with the others."""
    actions_problem = None
    try:
        registry = load_actions(config.bot, config.actions.module)
        known: list[str] | None = registry.names()
    except UserError as exc:
        registry, known = ActionRegistry(), None
        actions_problem = Problem(Mark(str(config.bot / f"{config.actions.module}.py"), 1, 1), "BOT-E011", str(exc))
    runner = InProcessActionRunner(registry, config.actions.timeout_seconds)
    result = load_bot(config.bot, languages=config.languages, default_language=config.default_language,
                      actions=known)
    if actions_problem is not None:
        result = LoadResult(None, result.problems + [actions_problem])
    return result, runner


@asynccontextmanager
async def open_runtime(config: Config) -> AsyncIterator[Runtime]:
    """Everything a server or the shell needs; the store is closed on exit."""
    result, runner = check_bot(config)
    if result.bot is None:
        raise ProblemsError(result.errors)
    for warning in result.warnings:
        log.warning("%s", warning)
    bot = result.bot
    interpreter = CharNgramInterpreter.for_bot(bot)
    store = open_store(config.store, config.data_dir)
    await store.open()
    try:
        engine = Engine(bot, public_url=config.public_url)
        pipeline = Pipeline(bot, engine, store, LocalThreadLock(), interpreter, runner)
        yield Runtime(config, bot, store, pipeline, result)
    finally:
        await store.close()
