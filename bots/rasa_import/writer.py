"""Writes the converted project: a config.yaml beside a bot folder, the report, and a link to the actions.

The actions package is linked, not copied: the Rasa project keeps its code, and both bots run the same files.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from bots.errors import UserError

HEADER = "# Converted from a Rasa project by `threadline import rasa`; see IMPORT_REPORT.md for what was not.\n"


def _plain(value: Any) -> Any:
    """Values read from the Rasa files carry their marks; the dump wants plain dicts and lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _dump(data: dict[str, Any]) -> str:
    return HEADER + yaml.safe_dump(_plain(data), sort_keys=False, allow_unicode=True, width=110)


def write_bot(
    out: Path, files: dict[str, dict[str, Any]], config: dict[str, Any], report: str, actions: Path | None
) -> None:
    """Write ``files`` under ``out/bot``; an existing bot there is refused rather than mixed with the new one."""
    bot = out / "bot"
    if bot.exists() and any(bot.iterdir()):
        raise UserError(f"{bot} already exists and is not empty: choose another --out")
    bot.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (bot / name).write_text(_dump(data), encoding="utf-8")
    (out / "config.yaml").write_text(_dump(config), encoding="utf-8")
    (out / "IMPORT_REPORT.md").write_text(report, encoding="utf-8")
    if actions is not None:
        os.symlink(actions.resolve(), bot / actions.name, target_is_directory=actions.is_dir())
