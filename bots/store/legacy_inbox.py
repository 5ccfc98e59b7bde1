"""Whom a webhook item stored by an older Threadline concerns, read from Messenger's JSON.

Items stored since the inbox learnt persons name their person themselves
(:class:`bots.store.records.InboxItem`), and no store reads a payload. Only the
one-time schema migration of each backend reads this, for the items that were
in the inbox when it was upgraded. The rules are those of
connectors/messenger/parse.py at that time (the store must not import a
connector): a PSID is the sender, or the recipient of an echo; a plugin's
user_ref stands in when there is no PSID yet.
"""

from __future__ import annotations

import json
from typing import Any

from bots.types import Identity

CHANNEL = "messenger"  # the inbox channel whose items named their person in their payload
PSID_CHANNEL, USER_REF_CHANNEL = "messenger", "messenger_ref"  # the identity channels of those people


def _id(value: Any) -> str | None:
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip() or None


def _field(item: dict[str, Any], *path: str) -> Any:
    value: Any = item
    for step in path:
        value = value.get(step) if isinstance(value, dict) else None
    return value


def messenger_person(payload: str) -> Identity | None:
    """The person a stored Messenger item (``{"item": ..., "page_id": ..., "standby": ...}``) concerns."""
    try:
        item = _field(json.loads(payload), "item")
    except ValueError:
        return None
    if not isinstance(item, dict):
        return None
    if _field(item, "message", "is_echo"):  # the page wrote: the person is the recipient
        psid, user_ref = _id(_field(item, "recipient", "id")), _id(_field(item, "recipient", "user_ref"))
    else:
        psid = _id(_field(item, "sender", "id"))
        user_ref = _id(_field(item, "sender", "user_ref")) or _id(_field(item, "optin", "user_ref"))
    if psid:
        return Identity(PSID_CHANNEL, psid)
    return Identity(USER_REF_CHANNEL, user_ref) if user_ref else None
