"""Messenger webhook bodies -> typed events. Pure functions, no I/O.

Every entry of a batched POST and every item of its ``messaging`` and
``standby`` arrays is read (other frameworks read only the first). Payloads
from 2016 to today differ: numeric ids, timestamps as numbers or strings,
no ``sender`` on checkbox opt-ins, no ``timestamp`` on deliveries, no
``source`` on European referrals. All of it parses; anything unknown is
returned as kind ``unknown`` for the caller to log and skip.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connectors.meta.payload import digest_key, walk
from connectors.meta.payload import id_of as _id
from connectors.meta.payload import seconds as _seconds

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
    for key, kind in (
        ("postback", "postback"),
        ("referral", "referral"),
        ("optin", "optin"),
        ("delivery", "delivery"),
        ("read", "read"),
        ("reaction", "reaction"),
    ):
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
    return digest_key(kind, item)


def parse_item(item: dict[str, Any], page_id: str, standby: bool) -> MessengerEvent:
    kind = _kind(item)
    raw_sender = item.get("sender")
    sender: dict[str, Any] = raw_sender if isinstance(raw_sender, dict) else {}
    raw_recipient = item.get("recipient")
    recipient: dict[str, Any] = raw_recipient if isinstance(raw_recipient, dict) else {}
    raw_optin = item.get("optin")
    optin: dict[str, Any] = raw_optin if isinstance(raw_optin, dict) else {}
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
    envelope = walk(body, "page", "page feed or the dashboard's Test button")
    return [parse_item(item, page_id, standby) for page_id, item, standby in envelope.items], envelope.notes


def locale_language(locale: str | None) -> str | None:
    """Facebook's ll_CC locale as a language code: es_LA -> es, zh_TW -> zh (no Traditional model here)."""
    if not locale or not isinstance(locale, str):
        return None
    return locale.split("_", 1)[0].lower() or None
