"""Instagram webhook bodies -> typed events. Pure functions, no I/O.

Meta's Instagram Messaging webhooks (``object: "instagram"``) use the
Messenger envelope: ``entry[].messaging[]`` (``standby[]`` when another app
owns the conversation), each item ``{"sender": {"id": IGSID}, "recipient":
{"id": IG account id}, "timestamp": ms, <one key>}``. Documented keys and
shapes (Meta's "Webhooks for Instagram Messaging", "Story Mention" and
"ig.me links" pages):

- ``message``: ``mid`` and ``text``; ``quick_reply.payload`` on a tapped
  quick reply; ``attachments[]`` of ``{type, payload: {url}}`` with type
  ``image``, ``video``, ``audio``, ``file``, ``share``, ``story_mention``,
  ``ig_reel``, ``reel``, ``fallback``, ``ephemeral`` ...; ``reply_to``
  ``{"mid"}`` or ``{"story": {"url", "id"}}`` (a story reply);
  ``referral`` (a click-to-message ad or product); ``is_echo`` on what the
  account sent (our app or a person in the Instagram inbox; no separate
  echo subscription on Instagram), ``is_deleted`` when the customer
  unsends, ``is_unsupported`` for content the API does not carry.
- ``postback``: ``{mid, title, payload}`` (an ice breaker, a template
  button), with ``referral`` when an ig.me link with ``ref`` opened a new
  conversation through an ice breaker.
- ``referral``: ``{ref, source: "SHORTLINKS", type: "OPEN_THREAD"}`` when an
  ig.me link with ``ref`` opens an existing conversation.
- ``reaction``: ``{mid, action: react|unreact, reaction, emoji}``.
- ``read``: ``{mid}`` (the ``messaging_seen`` field).
- handover (``pass_thread_control`` ...) and ``optin`` as on Messenger.

Every entry and every item is read; anything unknown becomes kind
``unknown`` for the caller to note and skip.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connectors.meta.payload import digest_key, id_of, obj, seconds, walk

HANDOVER_KEYS = ("pass_thread_control", "take_thread_control", "request_thread_control", "app_roles")
# Items that carry a ``mid`` of their own: redeliveries are recognised by it.
_MID_KINDS = {
    "echo": "echo",
    "deleted": "deleted",
    "text": "mid",
    "quick_reply": "mid",
    "attachments": "mid",
    "unsupported": "mid",
    "postback": "mid",
}


@dataclass(frozen=True)
class InstagramEvent:
    kind: str  # echo deleted unsupported quick_reply text attachments postback referral reaction read optin
    #            handover unknown
    account_id: str  # entry.id: the Instagram professional account
    igsid: str | None  # the customer's Instagram-scoped id
    timestamp: float  # seconds
    mid: str | None
    standby: bool
    body: dict[str, Any] = field(repr=False)  # the item itself
    key: str = ""  # de-duplication key for redeliveries

    @property
    def message(self) -> dict[str, Any]:
        return obj(self.body.get("message"))


def _kind(item: dict[str, Any]) -> str:
    message = item.get("message")
    if isinstance(message, dict):
        if message.get("is_echo"):
            return "echo"
        if message.get("is_deleted"):
            return "deleted"
        if isinstance(message.get("quick_reply"), dict):
            return "quick_reply"
        if isinstance(message.get("text"), str):
            return "text"
        if isinstance(message.get("attachments"), list) and message["attachments"]:
            return "attachments"
        if message.get("is_unsupported"):
            return "unsupported"
        return "unknown"
    for key in ("postback", "referral", "reaction", "read", "optin"):
        if isinstance(item.get(key), dict):
            return key
    if any(key in item for key in HANDOVER_KEYS):
        return "handover"
    return "unknown"


def parse_item(item: dict[str, Any], account_id: str, standby: bool) -> InstagramEvent:
    kind = _kind(item)
    # On an echo the account wrote: the customer is the recipient.
    igsid = id_of(obj(item.get("recipient" if kind == "echo" else "sender")).get("id"))
    if igsid is not None and igsid == account_id:
        igsid = None  # the account itself is nobody's customer
    holder = obj(item.get("reaction" if kind == "reaction" else "postback" if kind == "postback" else "message"))
    mid = id_of(holder.get("mid"))
    prefix = _MID_KINDS.get(kind)
    key = f"{prefix}:{mid}" if prefix and mid else digest_key(kind, item)
    return InstagramEvent(kind, account_id, igsid, seconds(item.get("timestamp")), mid, standby, item, key)


def parse_body(body: Any) -> tuple[list[InstagramEvent], list[str], bool]:
    """Every event of a webhook body in order, notes on what was skipped, and whether the body was malformed."""
    envelope = walk(body, "instagram", "comments, mentions and other Instagram fields")
    events = [parse_item(item, account, standby) for account, item, standby in envelope.items]
    return events, envelope.notes, envelope.malformed
