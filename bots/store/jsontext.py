"""The JSON text the stores keep (snapshots, event data): written by ``json``, read by orjson.

Reading is what a turn does most (its snapshot, and an action's 200-event tracker tail), and orjson reads the
same documents several times faster. Writing stays with ``json``: orjson would write what it writes
differently (NaN as null, enums and dataclasses as values rather than through ``str``).
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)  # json.dumps with these builds one per call


def as_json(value: Any) -> str:
    return _ENCODER.encode(value)


def from_json(text: str | bytes) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # NaN, Infinity, integers beyond 64 bits: json.dumps writes them, orjson refuses
        return json.loads(text)
