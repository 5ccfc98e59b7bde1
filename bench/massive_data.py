"""Reading MASSIVE 1.1 for the NLU benchmarks: where it is and one locale's rows by partition."""

from __future__ import annotations

import json
import os
from pathlib import Path

# beside the checkout by default; THREADLINE_MASSIVE_DATA names another folder (a checkout elsewhere)
DATA = Path(os.environ.get("THREADLINE_MASSIVE_DATA", Path(__file__).resolve().parents[2] / "shared/data/massive"))
LOCALES = ("en-US", "zh-CN", "nl-NL", "fr-FR", "de-DE", "it-IT", "pl-PL", "pt-PT", "ro-RO", "es-ES", "vi-VN")


def rows(locale: str, data: Path = DATA) -> dict[str, list[dict[str, str]]]:
    parts: dict[str, list[dict[str, str]]] = {"train": [], "dev": [], "test": []}
    with (data / f"{locale}.jsonl").open(encoding="utf-8") as file:
        for line in file:
            row = json.loads(line)
            parts[row["partition"]].append(row)
    return parts
