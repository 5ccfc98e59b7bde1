"""Build a running bot from config.yaml: load, check, train, open the store."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from bots.actions import ActionRunner, ActionServer, open_action_server
from bots.actions.remote import ActionServerError
from bots.config import Config
from bots.errors import Problem, ProblemsError, UserError
from bots.flow.engine import Engine
from bots.flow.loader import LoadResult, load_bot
from bots.flow.model import Bot
from bots.handoff.build import build_desk
from bots.handoff.desk import HandoffDesk
from bots.linking.tokens import LinkTokens, stored_secret
from bots.live import open_live_bus
from bots.live.bus import LiveBus
from bots.located_yaml import Mark
from bots.pipeline import Pipeline
from bots.store.base import ThreadStore
from bots.store.factory import is_shared, open_store
from bots.threads.access import Threads
from bots.threads.linking import ThreadLinker
from connectors.registry import channel_names
from nlu_models.char_ngrams import CharNgramInterpreter
from nlu_models.live import LiveModel
from nlu_models.tokenize import tokenizers_built, warm_up, warm_up_in_background
from nlu_models.train_process import load_or_start_training

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    config: Config
    bot: Bot
    store: ThreadStore
    pipeline: Pipeline
    load_result: LoadResult
    actions: ActionRunner
    linker: ThreadLinker
    threads: Threads  # the unit of work: every lock and every store access of a running bot
    # Frames for open chat windows between workers of a shared store; None with the embedded SQLite.
    # Started and stopped by the server with the web connector's hub.
    live_bus: LiveBus | None = None
    # The NLU model turns read: provisional on a first start until the full one is trained (see /health)
    nlu: LiveModel | None = None
    # What happens around a hand-off: the honest notice, the webhook, agents' presence (bots/handoff)
    handoff: HandoffDesk | None = None

    @property
    def warm(self) -> bool:
        """Start-up's background work is done: the full NLU model serves and every language's tokenizer is
        built (until then a turn may wait for one, and the building competes for the CPU: see /health)."""
        return (self.nlu is None or self.nlu.stage == "full") and tokenizers_built(self.bot.languages)


def _actions_mark(config: Config) -> Mark:
    package = config.actions.package.replace(".", "/")
    path = config.bot / package / "__init__.py"
    return Mark(str(path if path.is_file() else config.bot / f"{package}.py"), 1, 1)


async def check_bot(config: Config) -> tuple[LoadResult, ActionServer | None]:
    """Load actions and flows; a broken actions package or an unreachable server is reported with the rest.

    In process, flows may only call actions the package defines. Remote, they
    may only call actions the server lists, when it can be asked; when it
    cannot, a warning says so and the flows' actions are taken as they are.
    """
    problems: list[Problem] = []
    server: ActionServer | None = None
    known: list[str] | None = None
    settings = config.actions
    try:
        server = open_action_server(
            settings.mode,
            config.bot,
            package=settings.package,
            url=settings.url,
            timeout_seconds=settings.timeout_seconds,
            compress=settings.compress,
        )
        known = server.known_names()
        if known is None:
            try:
                known = await server.names()
            except ActionServerError as exc:
                problems.append(
                    Problem(Mark("config.yaml", 1, 1), "BOT-W004", f"actions not checked: {exc}", severity="warning")
                )
    except UserError as exc:
        problems.append(Problem(_actions_mark(config), "BOT-E011", str(exc)))
    result = load_bot(
        config.bot,
        languages=config.languages,
        default_language=config.default_language,
        actions=known,
        channels=channel_names(),
    )
    if known is None and result.bot is not None:
        # The server could not say what it has: assume every form may have a validator
        # (a 404 then means "none"), so form validation works once the server is up.
        validators = {f"validate_{flow.form}" for flow in result.bot.flows.values() if flow.form}
        result = LoadResult(
            dataclasses.replace(result.bot, actions=tuple(sorted({*result.bot.actions, *validators}))), result.problems
        )
    if problems:
        result = LoadResult(
            result.bot if not any(p.severity == "error" for p in problems) else None, result.problems + problems
        )
    return result, server


async def _cancel(task: asyncio.Future[Any]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


async def _swap_when_trained(
    live: LiveModel,
    full: asyncio.Future[CharNgramInterpreter],
    tokenizer: asyncio.Future[None],
    others: list[str],
) -> None:
    """Swap in the full model once trained and its default language's tokenizer is built (so its first
    message does not wait for spaCy); a failed training leaves the provisional model serving, loudly."""
    try:
        model = await full
        await tokenizer
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.error("the full NLU model could not be trained (%s); still serving with the provisional one", exc)
        return
    live.swap(model)
    log.info("full NLU model ready: it answers from now on")
    warm_up_in_background(others)


@asynccontextmanager
async def open_runtime(config: Config, *, serve_provisional: bool = False) -> AsyncIterator[Runtime]:
    """Everything a server or the shell needs; the store and the action server's client are closed on exit.

    ``serve_provisional``: on a first start, answer with the provisional NLU model while the full one trains
    (the server's choice: a first answer in seconds). Everything else (the shell, ``threadline test``, tests)
    waits for the full model, so what it sees never depends on how fast training was.
    """
    result, server = await check_bot(config)
    if result.bot is None or server is None:
        if server is not None:
            await server.close()
        raise ProblemsError(result.errors)
    for warning in result.warnings:
        log.warning("%s", warning)
    bot = result.bot
    async with contextlib.AsyncExitStack() as stack:
        # Loaded, or trained in a child process when the examples changed since `threadline train` (or the
        # last start), while the action server and the store open; a training child sends a provisional
        # model first (nlu_models.train_process)
        nlu = asyncio.ensure_future(load_or_start_training(bot, config.data_dir))
        stack.push_async_callback(_cancel, nlu)  # nothing to do once it is done
        # The default language's tokenizer (and spaCy's import) before serving, meanwhile: the likeliest first
        # message then never waits for the others, which are built while the server already answers
        tokenizer = asyncio.ensure_future(asyncio.to_thread(warm_up, [bot.default_language]))
        stack.push_async_callback(_cancel, tokenizer)
        store = open_store(config.store, config.data_dir)
        await server.start()
        stack.push_async_callback(server.close)
        await store.open()
        stack.push_async_callback(store.close)
        training = await nlu
        live = training.live
        others = [language for language in bot.languages if language != bot.default_language]
        if training.full is not None and not serve_provisional:
            live.swap(await training.full)
        if training.full is None or not serve_provisional:
            await tokenizer
            warm_up_in_background(others)
        else:
            # The provisional model needs no tokenizer: serve now, and swap in the full model once it is trained
            log.info("serving with a provisional NLU model while the full one trains")
            stack.push_async_callback(_cancel, training.full)
            swap = asyncio.ensure_future(_swap_when_trained(live, training.full, tokenizer, others))
            stack.push_async_callback(_cancel, swap)
        engine = Engine(bot, public_url=config.public_url)
        actions = ActionRunner(server, bot, timeout_seconds=config.actions.timeout_seconds)
        pipeline = Pipeline(bot, engine, live, actions, action_history=config.actions.tracker_events)
        locks = store.thread_lock()
        if is_shared(config.store) and not config.linking.secret:
            log.warning(
                "linking.secret is not set: links are signed with a secret kept in %s, which only "
                "workers on this machine share; set it when workers run on several machines",
                config.data_dir,
            )
        secret = config.linking.secret or stored_secret(config.data_dir / "link-secret")
        linker = ThreadLinker(
            store, locks, LinkTokens(secret, config.linking.ttl_minutes * 60, channels=channel_names())
        )
        threads = Threads(store, locks, pipeline, linker)
        bus = open_live_bus(config.store)
        desk = build_desk(
            config.handoff, engine, store, bus, shared=is_shared(config.store), public_url=config.public_url
        )
        pipeline.observer = desk
        yield Runtime(config, bot, store, pipeline, result, actions, linker, threads, bus, live, desk)
