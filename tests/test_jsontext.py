"""The stores' JSON text: what ``json.dumps(..., default=str)`` wrote is what is written now (read back as the
same values), NaN and Infinity as null, and what orjson cannot write still written."""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
from typing import Any

import numpy as np
import pytest

from bots.store.jsontext import as_json, from_json


@dataclasses.dataclass
class Order:
    number: str


VALUES: list[Any] = [
    {"slots": {"size": 42, "price": 129.95, "email": None, "ok": True, "name": "Zoë 👟"}, "stack": [], "turn": 3},
    {"when": datetime.datetime(2026, 12, 7, 9, 30), "day": datetime.date(2026, 12, 24)},
    {"order": Order("ST-123456"), "tags": {"a"}, "ids": ("x", "y"), 1: "one", None: "none"},
    {"confidence": np.float64(0.9987), "count": np.int64(3)},
    {"big": 2**70, "deep": [[["x"]]]},
    {"lone": "\ud800"},
]


@pytest.mark.parametrize("value", VALUES)
def test_written_as_json_wrote_it(value: Any) -> None:
    written = as_json(value)
    assert from_json(written) == json.loads(json.dumps(value, ensure_ascii=False, default=str))


def test_nan_and_infinity_are_written_as_null() -> None:
    assert from_json(as_json({"a": math.nan, "b": [math.inf, -math.inf], "c": np.float64("nan")})) == {
        "a": None,
        "b": [None, None],
        "c": None,
    }


def test_what_json_wrote_before_is_still_read() -> None:
    assert math.isnan(from_json('{"a": NaN}')["a"])
    assert from_json('{"big": 1180591620717411303424}') == {"big": 2**70}


def test_a_cycle_is_an_error_as_before() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(ValueError):
        as_json(loop)
