"""The served ``widget.js``: its source files joined in order, built once at start with the bot's default words.

Sites load one ``widget.js`` and nobody runs a build step; the source is kept in a few files with one job each
under ``static/widget/`` (options and storage, texts, the panel, rendering, frames, transport, start), which are
parts of one function and only run joined in the order of ``PARTS``.

The widget loads its texts in every language from ``/widget-texts.json``; when that request fails on a first
visit (nothing kept from an earlier one), it still labels every button and notice with these built-in words
instead of leaving them blank. They are the catalogue's texts of the bot's default language with the bot's own
words over them, so there is no second copy of any text to keep in step. The message limit comes along for the
"too long" notice.
"""

from __future__ import annotations

import json
from pathlib import Path

from connectors.base import BotPresentation
from connectors.web.assets import Asset
from connectors.web.texts import widget_texts

SOURCE = Path(__file__).parent / "static" / "widget"
PARTS = ("core.js", "texts.js", "panel.js", "render.js", "frames.js", "transport.js", "start.js")
BUILT_IN = "__THREADLINE_BUILT_IN__"  # the one place in the source the server fills in


def source() -> str:
    """The widget's source files joined in order; a file left out of ``PARTS`` is an error, not a silent gap."""
    found = sorted(path.name for path in SOURCE.glob("*.js"))
    if found != sorted(PARTS):
        raise RuntimeError(f"{SOURCE.name}/ holds {found}, but widget.js is joined from {sorted(PARTS)}")
    return "".join((SOURCE / name).read_text(encoding="utf-8") for name in PARTS)


def built_in(overrides: dict[str, dict[str, str]], bot: BotPresentation, max_chars: int) -> dict[str, object]:
    """The default language's texts (the bot's words over the catalogue's) and the server's message limit."""
    texts = widget_texts(overrides, bot.languages, bot.default_language)
    default = texts["default"]
    return {"default": default, "texts": {default: texts["texts"][default]}, "max_chars": max_chars}


def script_asset(overrides: dict[str, dict[str, str]], bot: BotPresentation, max_chars: int) -> Asset:
    """``/widget.js``: the source with its built-in texts, gzipped and revalidated like the widget's other files."""
    script = source()
    if script.count(BUILT_IN) != 1:
        raise RuntimeError(f"widget.js must name {BUILT_IN} exactly once, where its built-in texts go")
    words = json.dumps(built_in(overrides, bot, max_chars), ensure_ascii=False, separators=(",", ":"))
    return Asset.of(script.replace(BUILT_IN, words).encode(), "application/javascript")
