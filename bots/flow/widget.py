"""``settings.widget``: how a bot looks on the website, checked where the loader can name file and line.

The page at ``/`` and the chat window show these, so a bot never appears under another bot's name,
colour, words or pictures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bots.errors import Problem
from bots.flow.compiler import FlowCompiler
from bots.flow.model import WidgetDef
from bots.flow.schema import WidgetSpec
from bots.located_yaml import Mark, mark_of

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg")


def widget_def(
    spec: WidgetSpec,
    settings_raw: Any,
    settings_mark: Mark,
    texts: FlowCompiler,
    bot_dir: Path,
    problems: list[Problem],
) -> WidgetDef:
    """The checked look; the greeting is a text like any other (a key in texts/, or one per language)."""
    raw = settings_raw.get("widget") if isinstance(settings_raw, dict) else None
    mark = mark_of(settings_raw, "widget", settings_mark)
    greeting = texts.text(spec.greeting, raw, "greeting", mark) if spec.greeting is not None else None
    if spec.avatar is not None and not _is_media_image(bot_dir, spec.avatar):
        problems.append(
            Problem(
                mark_of(raw, "avatar", mark),
                "BOT-E013",
                f"widget avatar {spec.avatar!r} is not an image file in the bot's media/ folder "
                f"(a file name ending in {', '.join(IMAGE_SUFFIXES)})",
            )
        )
    return WidgetDef(spec.colour, spec.title, greeting, spec.avatar)


def _is_media_image(bot_dir: Path, name: str) -> bool:
    """A plain file name (served at /media/<name>) of an image that exists, so the page shows no broken image."""
    if "/" in name or "\\" in name or name.startswith("."):
        return False
    return name.lower().endswith(IMAGE_SUFFIXES) and (bot_dir / "media" / name).is_file()
