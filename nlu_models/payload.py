"""Button payloads (``/intent`` or ``/intent{"entity": "value"}``) need no model: they say what they mean."""

from __future__ import annotations

from bots.payload import parse_payload
from bots.types import Entity, IntentScore, NLUResult


def parse_payload_result(text: str, intents: tuple[str, ...], language: str) -> NLUResult | None:
    """The NLU result of a payload (carrying the payload, so the engine need not read it again), else None."""
    payload = parse_payload(text)
    if payload is None:
        return None
    intent = payload.name[1:] if payload.name[1:] in intents else None
    return NLUResult(
        text=text,
        language=language,
        language_confidence=0.0,  # a payload says nothing about the customer's language
        intent=intent,
        confidence=1.0 if intent else 0.0,
        ranking=(IntentScore(intent, 1.0),) if intent else (),
        entities=tuple(Entity(key, value, extractor="payload") for key, value in payload.entities.items()),
        payload=payload,
    )
