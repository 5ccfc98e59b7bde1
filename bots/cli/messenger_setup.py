"""``threadline messenger setup``: the Page's Messenger profile made from the bot, shown as changes, then set.

The Get Started payload, a greeting per locale, the persistent menu, the ice breakers and the whitelisted
domains come from the bot's texts and ``connectors.messenger`` (docs/channels.md). Only the fields that
differ from the Page's are posted; a field the bot does not define is left as the Page has it.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from bots.config import Config, load_config
from bots.errors import Problem, ProblemsError, UserError, mark_at
from bots.flow.loader import load_bot
from bots.flow.model import Bot
from bots.located_yaml import Mark, YamlError, load_file
from connectors.messenger.config import MessengerConfig
from connectors.messenger.graph import GraphClient, describe
from connectors.messenger.profile import FIELDS, BotTexts, Built, build_profile, changes, merged_domains

SECTION = ("connectors", "messenger")


def _texts(bot: Bot) -> BotTexts:
    def lookup(key: str, language: str) -> str | None:
        variants = bot.responses.get(key, {}).get(language)
        return variants[0] if variants else None

    return BotTexts(bot.languages, bot.default_language, lookup)


def _sites(config: Config) -> list[tuple[str, str]]:
    """The addresses Messenger must trust: this server, the site links open, the sites that embed the widget."""
    sites = [("server.public_url", config.server.public_url), ("linking.site_url", config.linking.site_url)]
    origins = getattr(config.connectors, "web", None)
    sites += [("connectors.web.allowed_origins", o) for o in getattr(origins, "allowed_origins", ()) if o != "*"]
    return [(source, url) for source, url in sites if url]


def _refuse(config_path: Path, built: Built) -> ProblemsError:
    """The profile's problems at the config lines that ask for them."""
    top = Mark(str(config_path), 1, 1)
    try:
        data = load_file(config_path)
    except YamlError:  # read once already by load_config: cannot happen but for a file changed meanwhile
        data = None
    problems = []
    for problem in built.problems:
        loc = (*SECTION, "profile", *problem.where)
        dotted = ".".join(str(part) for part in loc)
        problems.append(Problem(mark_at(data, loc, top), "MSG-E001", f"{dotted}: {problem.message}"))
    return ProblemsError(problems)


def _show(current: dict[str, Any], diff: dict[str, list[str]], wanted: dict[str, Any]) -> None:
    for name in FIELDS:
        if name not in wanted:
            state = "set on the Page, left as it is" if name in current else "not set (the bot defines none)"
            print(f"{name}: {state}")
        elif name not in diff:
            print(f"{name}: unchanged")
        else:
            print(f"{name}:")
            for line in diff[name]:
                print(f"  {line}")


async def _setup(messenger: MessengerConfig, built: Built, dry_run: bool) -> int:
    graph = GraphClient(messenger)
    async with graph:
        current, error = await graph.messenger_profile(FIELDS)
        if current is None:
            print(f"threadline: could not read the Page's Messenger profile: {error}", file=sys.stderr)
            return 1
        wanted = dict(built.profile)
        if "whitelisted_domains" in wanted:
            wanted["whitelisted_domains"] = merged_domains(
                current.get("whitelisted_domains"), wanted["whitelisted_domains"]
            )
        diff = changes(current, wanted)
        for note in built.notes:
            print(f"note: {note}")
        _show(current, diff, wanted)
        if not diff:
            print("The Page's Messenger profile is up to date.")
            return 0
        if dry_run:
            print(f"Dry run: {len(diff)} field(s) would change; nothing was sent.")
            return 0
        result = await graph.set_messenger_profile({name: wanted[name] for name in diff})
        if not result.ok:
            print(f"threadline: Graph refused the Messenger profile: {describe(result)}", file=sys.stderr)
            return 1
        print(f"Updated the Page's Messenger profile: {', '.join(diff)}.")
        return 0


def messenger_setup(config_path: Path, *, dry_run: bool) -> int:
    config = load_config(config_path)
    messenger = getattr(config.connectors, "messenger")  # noqa: B009 (the section is built from the channel registry)
    assert isinstance(messenger, MessengerConfig)
    if not messenger.page_access_token:
        raise UserError(
            f"{config_path}: connectors.messenger.page_access_token is not set (nor MESSENGER_PAGE_ACCESS_TOKEN): "
            "setting up the Page needs its access token"
        )
    if not messenger.app_secret:  # no secret to prove the token with: Graph takes the token alone
        messenger = messenger.model_copy(update={"appsecret_proof": False})
    loaded = load_bot(config.bot, languages=config.languages, default_language=config.default_language)
    if loaded.bot is None:
        raise ProblemsError(loaded.errors or loaded.problems)
    built = build_profile(
        messenger.get_started_payload,
        messenger.profile,
        _texts(loaded.bot),
        _sites(config),
        greeting_named="greeting" in messenger.profile.model_fields_set,
    )
    if built.problems:
        raise _refuse(config_path, built)
    return asyncio.run(_setup(messenger, built, dry_run))
