"""``threadline validate [BOT_DIR]``: every problem of a bot folder at once, with file, line and column."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bots.cli.channel_limits import check_limits
from bots.config import Config, load_config
from bots.flow.loader import LoadResult
from bots.runtime import check_bot
from connectors.base import RenderLimits
from connectors.registry import channel_specs
from nlu_models.encoder.reliance import reliance


async def _check(config: Config) -> LoadResult:
    result, server = await check_bot(config)
    if server is not None:
        await server.close()
    return result


def _channel_limits() -> dict[str, RenderLimits]:
    """The registry's channels that have limits of their own, by the name a person knows them by."""
    return {
        spec.name.capitalize(): spec.channel.limits for spec in channel_specs() if spec.channel.limits != RenderLimits()
    }


def validate(config_path: Path, bot_dir: Path | None) -> int:
    config = load_config(config_path) if config_path.is_file() else Config()
    if bot_dir is not None:
        config = config.model_copy(update={"bot": bot_dir.resolve()})
    elif not config_path.is_file():
        config = config.model_copy(update={"bot": config.bot.resolve()})
    result = asyncio.run(_check(config))
    if result.bot is not None:
        result = type(result)(result.bot, result.problems + check_limits(result.bot, _channel_limits()))
    for problem in result.problems:
        print(problem, file=sys.stderr if problem.severity == "error" else sys.stdout)
    errors, warnings = len(result.errors), len(result.warnings)
    if result.bot is None:
        print(
            f"{config.bot.name}: {errors} error{'s' if errors != 1 else ''}, {warnings} warning"
            f"{'s' if warnings != 1 else ''}",
            file=sys.stderr,
        )
        return 1
    bot = result.bot
    print(
        f"{bot.name}: OK — {len(bot.flows)} flows, {len(bot.intents)} intents, {len(bot.slots)} slots, "
        f"{len(bot.responses)} texts, {len(bot.languages)} languages, {len(bot.actions)} actions"
        + (f", {warnings} warning{'s' if warnings != 1 else ''}" if warnings else "")
    )
    encoder, thin = reliance(bot.examples, bot.languages, bot.nlu_encoder)
    print(f"sentence encoder: {encoder or 'none'} (settings.nlu_encoder: {bot.nlu_encoder})")
    for language in thin:
        print(f"  {language.describe(encoder)}")
    return 0
