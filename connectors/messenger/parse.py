"""Messenger webhook bodies -> typed events. Pure functions, no I/O.

Every entry of a batched POST and every item of its ``messaging`` and
``standby`` arrays is read (other frameworks read only the first). Payloads
from 2016 to today differ: numeric ids, timestamps as numbers or strings,
no ``sender`` on checkbox opt-ins, no ``timestamp`` on deliveries, no
``source`` on European referrals. All of it parses; anything unknown is
returned as kind ``unknown`` for the caller to log and skip.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

HANDOVER_KEYS = ("pass_thread_control", "take_thread_control", "request_thread_control", "app_roles")


@dataclass(frozen=True)
class MessengerEvent:
    kind: str  # echo quick_reply text attachments postback referral optin delivery read reaction handover
    #            account_linking policy unknown
    page_id: str
    psid: str | None  # the person's page-scoped id
    user_ref: str | None  # chat or checkbox plugin reference, when there is no PSID
    timestamp: float  # seconds
    mid: str | None
    standby: bool
    body: dict[str, Any] = field(repr=False)  # the event item itself
    key: str = ""  # de-duplication key for redeliveries

    @property
    def person(self) -> tuple[str, str] | None:
        if self.psid:
            return ("psid", self.psid)
        if self.user_ref:
            return ("user_ref", self.user_ref)
        return None


def _id(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _seconds(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number / 1000.0 if number > 10_000_000_000 else number  # milliseconds, or seconds (the Test button)


def _kind(item: dict[str, Any]) -> str:
    """The dispatch order of the libraries that get it right (echo before anything else)."""
    message = item.get("message")
    if isinstance(message, dict):
        if message.get("is_echo"):
            return "echo"
        if isinstance(message.get("quick_reply"), dict):
            return "quick_reply"
        if isinstance(message.get("text"), str):
            return "text"
        if isinstance(message.get("attachments"), list):
            return "attachments"
        return "unknown"
    for key, kind in (("postback", "postback"), ("referral", "referral"), ("optin", "optin"),
                      ("delivery", "delivery"), ("read", "read"), ("reaction", "reaction")):
        if isinstance(item.get(key), dict):
            return kind
    if any(key in item for key in HANDOVER_KEYS):
        return "handover"
    if "account_linking" in item:
        return "account_linking"
    if "policy-enforcement" in item or "policy_enforcement" in item:
        return "policy"
    return "unknown"


def _key(kind: str, item: dict[str, Any], mid: str | None) -> str:
    if mid and kind != "reaction":
        return f"{'echo' if kind == 'echo' else 'mid'}:{mid}"
    canonical = json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"{kind}:{hashlib.sha256(canonical.encode()).hexdigest()[:32]}"


def parse_item(item: dict[str, Any], page_id: str, standby: bool) -> MessengerEvent:
    kind = _kind(item)
    sender = item.get("sender") if isinstance(item.get("sender"), dict) else {}
    recipient = item.get("recipient") if isinstance(item.get("recipient"), dict) else {}
    optin = item.get("optin") if isinstance(item.get("optin"), dict) else {}
    if kind == "echo":  # the page wrote: the person is the recipient
        psid, user_ref = _id(recipient.get("id")), _id(recipient.get("user_ref"))
    else:
        psid = _id(sender.get("id"))
        user_ref = _id(sender.get("user_ref")) or _id(optin.get("user_ref"))
    mid = None
    for holder in ("message", "postback"):
        if isinstance(item.get(holder), dict) and item[holder].get("mid"):
            mid = _id(item[holder]["mid"])
    if kind == "reaction":
        mid = _id(item["reaction"].get("mid"))
    timestamp = _seconds(item.get("timestamp"))
    return MessengerEvent(kind, page_id, psid, user_ref, timestamp, mid, standby, item, _key(kind, item, mid))


def parse_body(body: Any) -> tuple[list[MessengerEvent], list[str]]:
    """Every event of a webhook body, in order, and notes about what was skipped and why."""
    notes: list[str] = []
    if not isinstance(body, dict):
        return [], ["the body is not a JSON object"]
    if body.get("object") != "page":
        return [], [f"object {body.get('object')!r} is not 'page'; ignored"]
    entries = body.get("entry")
    if not isinstance(entries, list):
        return [], ["no entry list"]
    events: list[MessengerEvent] = []
    for entry in entries:
        if not isinstance(entry, dict):
            notes.append("an entry that is not an object was skipped")
            continue
        page_id = _id(entry.get("id")) or ""
        for field_name, standby in (("messaging", False), ("standby", True)):
            items = entry.get(field_name)
            if items is None:
                continue
            if not isinstance(items, list):
                notes.append(f"entry {page_id}: {field_name} is not a list")
                continue
            for item in items:
                if isinstance(item, dict):
                    events.append(parse_item(item, page_id, standby))
                else:
                    notes.append(f"entry {page_id}: a {field_name} item that is not an object was skipped")
        if "changes" in entry:
            notes.append(f"entry {page_id}: 'changes' (page feed or the dashboard's Test button) ignored")
    return events, notes


def locale_language(locale: str | None) -> str | None:
    """Facebook's ll_CC locale as a language code: es_LA -> es, zh_TW -> zh (no Traditional model here)."""
    if not locale or not isinstance(locale, str):
        return None
    return locale.split("_", 1)[0].lower() or None
