"""The served ``widget.js``, built once at start with the bot's default-language words inside it.

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

SOURCE = Path(__file__).parent / "static" / "widget.js"
BUILT_IN = "__THREADLINE_BUILT_IN__"  # the one place in the source the server fills in


def built_in(overrides: dict[str, dict[str, str]], bot: BotPresentation, max_chars: int) -> dict[str, object]:
    """The default language's texts (the bot's words over the catalogue's) and the server's message limit."""
    texts = widget_texts(overrides, bot.languages, bot.default_language)
    default = texts["default"]
    return {"default": default, "texts": {default: texts["texts"][default]}, "max_chars": max_chars}


def script_asset(overrides: dict[str, dict[str, str]], bot: BotPresentation, max_chars: int) -> Asset:
    """``/widget.js``: the source with its built-in texts, gzipped and revalidated like the widget's other files."""
    source = SOURCE.read_text(encoding="utf-8")
    if source.count(BUILT_IN) != 1:
        raise RuntimeError(f"widget.js must name {BUILT_IN} exactly once, where its built-in texts go")
    words = json.dumps(built_in(overrides, bot, max_chars), ensure_ascii=False, separators=(",", ":"))
    return Asset.of(source.replace(BUILT_IN, words).encode(), "application/javascript")
