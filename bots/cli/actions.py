"""``threadline actions``: the custom actions the bot can call, and which flows call them."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bots.actions import open_action_server
from bots.actions.remote import ActionServerError
from bots.config import Config, load_config
from bots.flow.loader import load_bot
from bots.flow.model import ActionOp


async def _names(config: Config) -> list[str]:
    settings = config.actions
    server = open_action_server(
        settings.mode, config.bot, package=settings.package, url=settings.url, timeout_seconds=settings.timeout_seconds
    )
    try:
        return await server.names()
    finally:
        await server.close()


def list_actions(config_path: Path) -> int:
    config = load_config(config_path) if config_path.is_file() else Config()
    settings = config.actions
    where = (
        f"action server {settings.url}"
        if settings.mode == "remote"
        else f"package {settings.package!r} in {config.bot}"
    )
    try:
        names = asyncio.run(_names(config))
    except ActionServerError as exc:
        print(f"threadline: {exc}", file=sys.stderr)
        return 1
    callers: dict[str, list[str]] = {}
    bot = load_bot(config.bot, languages=config.languages, default_language=config.default_language).bot
    for flow in bot.flows.values() if bot else ():
        for op in flow.ops:
            if isinstance(op, ActionOp):
                callers.setdefault(op.name, [])
                if flow.name not in callers[op.name]:
                    callers[op.name].append(flow.name)
    print(f"{len(names)} action{'s' if len(names) != 1 else ''} in {where}:")
    for name in names:
        used = callers.get(name)
        print(f"  {name}" + (f"  (called by {', '.join(used)})" if used else "  (not called by any flow)"))
    missing = sorted(set(callers) - set(names))
    for name in missing:
        print(f"  {name}  MISSING: called by {', '.join(callers[name])}", file=sys.stderr)
    return 1 if missing else 0
