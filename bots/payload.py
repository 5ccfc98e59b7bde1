"""The button-payload grammar: ``/name`` or ``/name{"entity": "value"}``, Rasa's form.

It sits beside the shared types, not in the engine or the NLU, because both
read payloads: the pipeline reads a message once (``nlu_models.payload``
turns it into the turn's NLU result) and the engine takes the result from
there.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bots.types import Payload

_PAYLOAD = re.compile(r"^(/[^{\s]+)(\{.*\})?$", re.DOTALL)


def parse_payload(text: str) -> Payload | None:
    """The payload ``text`` is, or None: not one, or its entities are not valid JSON."""
    stripped = text.strip()
    match = _PAYLOAD.match(stripped)
    if not match:
        return None
    entities: dict[str, Any] = {}
    if match.group(2):  # in braces: valid JSON there is an object
        try:
            entities = json.loads(match.group(2))
        except ValueError:
            return None
    return Payload(match.group(1), entities, stripped)
