"""The JSON text the stores keep (snapshots, event data): written by ``json``, read by orjson.

Reading is what a turn does most (its snapshot, and an action's 200-event tracker tail), and orjson reads the
same documents several times faster. Writing stays with ``json``: orjson would write what it writes
differently (NaN as null, enums and dataclasses as values rather than through ``str``).
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def from_json(text: str | bytes) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # NaN, Infinity, integers beyond 64 bits: json.dumps writes them, orjson refuses
        return json.loads(text)
