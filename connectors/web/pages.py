"""What the server's own pages share: templates (escaped by Jinja), the visitor's language, the widget tag.

The page at ``/`` (``connectors.web.demo_page``) shows the configured bot, so the widget on it is set up
from the bot's settings: its title, colour and greeting in the visitor's language.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, select_autoescape

from bots.types import short_locale
from connectors.base import BotPresentation

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "static"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_QUALITY = re.compile(r";\s*q\s*=\s*([^;,\s]*)")


def accepted_languages(header: str) -> list[str]:
    """The visitor's languages from Accept-Language, most wanted first: "de-CH, en;q=0.5" -> ["de", "en"]."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag = part.split(";")[0].strip()
        quality = _QUALITY.search(part)
        try:
            weight = float(quality.group(1)) if quality else 1.0
        except ValueError:
            weight = 0.0  # a malformed weight leaves the language out
        language = short_locale(tag)
        if language and language != "*" and weight > 0:
            ranked.append((-weight, index, language))
    return list(dict.fromkeys(language for _w, _i, language in sorted(ranked)))


def widget_context(request: web.Request, bot: BotPresentation) -> dict[str, Any]:
    """The template values of the widget tag (``_widget.html``): the bot's look, greeting and language."""
    language = bot.language_for(accepted_languages(request.headers.get("Accept-Language", "")))
    return {"bot": bot, "language": language, "greeting": bot.greetings.get(language, "")}


def render(template: str, **values: Any) -> web.Response:
    return web.Response(text=TEMPLATES.get_template(template).render(**values), content_type="text/html")


async def favicon(request: web.Request) -> web.Response:
    return web.Response(status=204)
