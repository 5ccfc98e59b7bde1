"""``threadline run``: serve the bot until Ctrl-C or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

from bots.config import load_config
from bots.server.app import serve


def run(config_path: Path, host: str | None, port: int | None) -> int:
    config = load_config(config_path)
    logging.getLogger().setLevel(config.log_level.upper())
    host = host or config.server.host
    port = port if port is not None else config.server.port
    if host != config.server.host or port != config.server.port:
        server = config.server.model_copy(update={"host": host, "port": port})
        config = config.model_copy(update={"server": server})

    async def main() -> None:
        task = asyncio.ensure_future(serve(config, host, port))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        try:
            await task
        except asyncio.CancelledError:
            logging.getLogger(__name__).info("stopped")

    try:
        import uvloop  # a faster event loop where available; the asyncio default otherwise
    except ImportError:
        asyncio.run(main())
    else:
        uvloop.run(main())
    return 0
