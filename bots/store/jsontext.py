"""The JSON text the stores keep (snapshots, event data), written and read by orjson.

A turn writes its snapshot and events and reads them back; orjson does both several times faster than
``json``. What it writes is what ``json.dumps(value, ensure_ascii=False, default=str)`` wrote, read back as
the same values, with one difference: NaN and Infinity are written as null (JSON has no such numbers; ``json``
wrote tokens that orjson, PostgreSQL's jsonb and most readers refuse). Values orjson cannot write (integers
beyond 64 bits, lone surrogates) are written by ``json`` as before, and read back by it.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from bots.types import dumps_text


def _default(value: Any) -> Any:
    if isinstance(value, float):  # a subclass orjson leaves to its caller (numpy's float64): still a number
        return float(value)
    return str(value)


def as_json(value: Any) -> str:
    return dumps_text(value, _default)


def from_json(text: str | bytes) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # NaN, Infinity, integers beyond 64 bits: json.dumps writes them, orjson refuses
        return json.loads(text)
