"""The bot's face for the channels' pages: its name, colour, avatar and greeting in each of its languages."""

from __future__ import annotations

from bots.flow.model import Bot
from bots.flow.texts import text_per_language
from connectors.base import BotPresentation


def presentation(bot: Bot) -> BotPresentation:
    """Built once from the loaded bot; channels import no flow code, so they get the words ready-made."""
    widget = bot.widget
    return BotPresentation(
        name=bot.name,
        title=widget.title or bot.name,
        colour=widget.colour,
        greetings=text_per_language(bot, widget.greeting) if widget.greeting is not None else {},
        languages=bot.languages,
        default_language=bot.default_language,
        avatar=widget.avatar,
        demo_shop=bot.demo_shop,
        locales=dict(bot.locales),
    )
