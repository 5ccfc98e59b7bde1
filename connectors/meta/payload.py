"""Reading Meta's webhook bodies (Messenger and Instagram alike): the envelope, and fields whose types changed."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from bots.types import is_json_text


def id_of(value: Any) -> str | None:
    """An id as text: 2016 payloads have numeric ids, newer ones strings; None for nothing usable."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def obj(value: Any) -> dict[str, Any]:
    """The value when it is a JSON object, else an empty one (Meta's optional objects may be null or absent)."""
    return value if isinstance(value, dict) else {}


def seconds(value: Any) -> float:
    """A timestamp in seconds: Meta sends milliseconds (the dashboard's Test button seconds), as number or text."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number / 1000.0 if number > 10_000_000_000 else number


def digest_key(kind: str, item: dict[str, Any]) -> str:
    """A de-duplication key for an item without a message id of its own (a reaction, a read, a referral)."""
    canonical = json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"{kind}:{hashlib.sha256(canonical.encode()).hexdigest()[:32]}"


@dataclass(frozen=True)
class Envelope:
    """The items of a webhook body: ``(entry id, item, standby)`` in order, and notes on what was skipped."""

    items: list[tuple[str, dict[str, Any], bool]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    malformed: bool = False  # not a webhook body at all: not an object, or no entry list


def walk(body: Any, object_name: str, changes: str) -> Envelope:
    """Every item of every entry's ``messaging`` and ``standby`` arrays (a batched POST carries several).

    ``changes`` says what an entry's ``changes`` array holds on this platform; it is noted and ignored.
    """
    if not isinstance(body, dict):
        return Envelope(notes=["the body is not a JSON object"], malformed=True)
    if body.get("object") != object_name:
        return Envelope(notes=[f"object {body.get('object')!r} is not {object_name!r}; ignored"])
    entries = body.get("entry")
    if not isinstance(entries, list):
        return Envelope(notes=["no entry list"], malformed=True)
    envelope = Envelope()
    notes = envelope.notes
    for entry in entries:
        if not isinstance(entry, dict):
            notes.append("an entry that is not an object was skipped")
            continue
        entry_id = id_of(entry.get("id")) or ""
        for field_name, standby in (("messaging", False), ("standby", True)):
            items = entry.get(field_name)
            if items is None:
                continue
            if not isinstance(items, list):
                notes.append(f"entry {entry_id}: {field_name} is not a list")
                continue
            for item in items:
                if isinstance(item, dict) and not is_json_text(item):
                    # a lone surrogate no store can keep: this item only, the batch's others go on
                    notes.append(
                        f"entry {entry_id}: a {field_name} item with text that is not valid Unicode was skipped"
                    )
                elif isinstance(item, dict):
                    envelope.items.append((entry_id, item, standby))
                else:
                    notes.append(f"entry {entry_id}: a {field_name} item that is not an object was skipped")
        if "changes" in entry:
            notes.append(f"entry {entry_id}: 'changes' ({changes}) ignored")
    return envelope
