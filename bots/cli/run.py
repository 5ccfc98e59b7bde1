"""``threadline run``: serve the bot until Ctrl-C or SIGTERM, in one process or in N workers.

With ``--workers N`` this process becomes a small supervisor: it trains the
NLU once (so N workers do not each train), then starts N worker processes
that listen on the same port (SO_REUSEPORT: the kernel spreads new
connections over them), restarts a worker that dies, and passes Ctrl-C or
SIGTERM on so every worker finishes its turns and shuts down cleanly.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bots.config import Config, load_config
from bots.errors import ProblemsError, UserError
from bots.server.app import serve
from bots.store.factory import is_shared
from bots.store.urls import redacted

log = logging.getLogger(__name__)
STOP_GRACE_SECONDS = 30.0  # more than the server's own shutdown timeout (bots.server.app)
SUPERVISOR_ENV = "THREADLINE_SUPERVISOR_PID"
RESTART_BACKOFF_MAX = 30.0


def run(
    config_path: Path, host: str | None, port: int | None, *, workers: int | None = None, reuse_port: bool = False
) -> int:
    config = load_config(config_path)
    logging.getLogger().setLevel(config.log_level.upper())
    host = host or config.server.host
    port = port if port is not None else config.server.port
    if host != config.server.host or port != config.server.port:
        server = config.server.model_copy(update={"host": host, "port": port})
        config = config.model_copy(update={"server": server})
    workers = workers or config.server.workers
    if workers > 1:
        return supervise(config_path, config, host, port, workers)

    async def main() -> None:
        task = asyncio.ensure_future(serve(config, host, port, reuse_port=reuse_port))
        loop = asyncio.get_running_loop()

        def stop() -> None:  # once: a second Ctrl-C must not cut short the clean shutdown the first began
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
            task.cancel()

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop)
        supervisor = int(os.environ.get(SUPERVISOR_ENV, "0"))
        watchdog = asyncio.ensure_future(_exit_with(supervisor, stop)) if supervisor else None
        try:
            await task
        except asyncio.CancelledError:
            log.info("stopped")
        finally:
            if watchdog is not None:
                watchdog.cancel()

    try:
        import uvloop  # a faster event loop where available; the asyncio default otherwise
    except ImportError:
        asyncio.run(main())
    else:
        uvloop.run(main())
    return 0


async def _exit_with(supervisor: int, stop: Callable[[], None]) -> None:
    """A worker stops when its supervisor is gone (killed -9, say), instead of serving on as an orphan."""
    while os.getppid() == supervisor:
        await asyncio.sleep(1.0)
    log.warning("the supervisor (pid %d) is gone; stopping", supervisor)
    stop()


def _check_store(config: Config) -> None:
    """Open the store once before any worker starts: a wrong URL or a database that is down is one clear error
    (and the schema is brought up to date once), not workers dying and being restarted over and over."""
    from bots.store.factory import open_store

    async def check() -> None:
        store = open_store(config.store, config.data_dir)
        await store.open()
        await store.close()

    asyncio.run(check())


def _train_once(config: Config) -> None:
    """Train (or find) the NLU model before the workers start, so they all load the same saved file; in a
    child process, so the supervisor, which runs as long as they do, keeps none of training's memory."""
    from bots.flow.loader import load_bot
    from nlu_models.train_process import load_or_train_apart

    loaded = load_bot(config.bot, languages=config.languages, default_language=config.default_language)
    if loaded.bot is None:
        raise ProblemsError(loaded.errors)
    asyncio.run(load_or_train_apart(loaded.bot, config.data_dir))


def supervise(config_path: Path, config: Config, host: str, port: int, workers: int) -> int:
    if not is_shared(config.store):
        raise UserError(
            f"--workers {workers} needs a store that several processes share (postgresql://... or "
            f"redis://...); {config.store.split(':', 1)[0]} is written by one process"
        )
    if port == 0:
        raise UserError("--workers needs a fixed port: workers share it")
    _check_store(config)
    _train_once(config)
    command = [
        sys.executable,
        "-m",
        "bots.cli",
        "run",
        "--config",
        str(config_path),
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        "1",
        "--reuse-port",
    ]
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    def start(index: int) -> subprocess.Popen[bytes]:
        # a session of its own: Ctrl-C in the terminal reaches the supervisor only, which stops the workers
        # with one SIGTERM each (a second signal would cut their clean shutdown short)
        process = subprocess.Popen(
            command,
            env={**os.environ, "THREADLINE_WORKER": str(index), SUPERVISOR_ENV: str(os.getpid())},
            start_new_session=True,
        )
        log.info("worker %d started (pid %d)", index, process.pid)
        return process

    processes = [start(i) for i in range(workers)]
    started = [time.monotonic()] * workers
    failures = [0] * workers
    log.info("serving on http://%s:%d with %d workers (store %s)", host, port, workers, redacted(config.store))
    while not stopping:
        time.sleep(0.2)
        for index, process in enumerate(processes):
            code = process.poll()
            if code is None or stopping:
                continue
            # a worker that keeps dying right after starting waits longer each time, so a broken
            # config or an unreachable database does not spin the machine
            failures[index] = failures[index] + 1 if time.monotonic() - started[index] < 10 else 1
            delay = min(RESTART_BACKOFF_MAX, 0.5 * 2 ** (failures[index] - 1))
            log.error("worker %d (pid %d) exited with %s; restarting it in %.1f s", index, process.pid, code, delay)
            deadline = time.monotonic() + delay
            while time.monotonic() < deadline and not stopping:
                time.sleep(0.1)
            if not stopping:
                processes[index] = start(index)
                started[index] = time.monotonic()
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for process in processes:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning("worker pid %d did not stop within %.0f s; killing it", process.pid, STOP_GRACE_SECONDS)
            process.kill()
            process.wait()
    log.info("stopped")
    return 0
