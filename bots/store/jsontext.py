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

_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)  # json.dumps with these builds one per call
# dates and dataclasses through str() as json's default=str did; keys that are numbers, True or None as strings
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_NON_STR_KEYS


def _default(value: Any) -> Any:
    if isinstance(value, float):  # a subclass orjson leaves to its caller (numpy's float64): still a number
        return float(value)
    return str(value)


def as_json(value: Any) -> str:
    try:
        return orjson.dumps(value, default=_default, option=_OPTIONS).decode()
    except orjson.JSONEncodeError:  # integers beyond 64 bits, lone surrogates, a cycle: json's way (or its error)
        return _ENCODER.encode(value)


def from_json(text: str | bytes) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # NaN, Infinity, integers beyond 64 bits: json.dumps writes them, orjson refuses
        return json.loads(text)
